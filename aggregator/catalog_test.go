package aggregator

import (
	"slices"
	"testing"

	"github.com/fieldmint/fieldmint/schemas/tables"
)

// TestCatalogHoldsLate: the aggregator's one rejection is in the tables'
// catalog, benign, and the default policy forfeits pay for exactly the
// catalog's fraud-class reasons.
func TestCatalogHoldsLate(t *testing.T) {
	if got := tables.ReasonsBy("aggregator"); !slices.Equal(got, []string{ReasonLate}) {
		t.Errorf("the catalog's aggregator reasons %v, want [%s]", got, ReasonLate)
	}
	if tables.IsFraud(ReasonLate) {
		t.Errorf("%s is fraud in the catalog", ReasonLate)
	}
	if got := DefaultScoring().Benign; !slices.Equal(got, tables.BenignReasons()) {
		t.Errorf("the default policy's benign reasons %v, the catalog's %v", got, tables.BenignReasons())
	}
}
