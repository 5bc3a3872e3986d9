package claim

import (
	"fmt"
	"math/big"
	"strings"
)

// FormatUnits renders an integer amount of base units with decimals, exactly.
func FormatUnits(v *big.Int, decimals int) string {
	if v == nil {
		return "0"
	}
	unit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(decimals)), nil)
	q, r := new(big.Int).QuoRem(new(big.Int).Abs(v), unit, new(big.Int))
	s := q.String()
	if r.Sign() != 0 {
		frac := fmt.Sprintf("%0*s", decimals, r.String())
		s += "." + strings.TrimRight(frac, "0")
	}
	if v.Sign() < 0 {
		s = "-" + s
	}
	return s
}
