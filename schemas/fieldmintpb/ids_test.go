package fieldmintpb

import (
	"regexp"
	"strings"
	"testing"
)

// idRule is the device id rule as written in the docs and the API's error
// messages; ValidID must say the same of every input.
var idRule = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

func TestValidID(t *testing.T) {
	for _, c := range []struct {
		id   string
		want bool
	}{
		{"weather-0001", true}, {"eui-0101010101010101", true}, {"a", true}, {"A.b_c:d-9", true},
		{strings.Repeat("x", 64), true}, {strings.Repeat("x", 65), false}, {"", false},
		{"has space", false}, {"slash/id", false}, {"ümlaut", false}, {"tab\t", false}, {"new\nline", false},
		{"weather-0001\x00", false}, {"+plus", false},
	} {
		if got := ValidID(c.id); got != c.want {
			t.Errorf("ValidID(%q) = %v, want %v", c.id, got, c.want)
		}
		if got := ValidID([]byte(c.id)); got != c.want {
			t.Errorf("ValidID([]byte(%q)) = %v, want %v", c.id, got, c.want)
		}
		if idRule.MatchString(c.id) != c.want {
			t.Errorf("the rule says %q is %v; the table is wrong", c.id, !c.want)
		}
	}
}

// FuzzValidID holds the hand-written check to the rule's regular expression.
func FuzzValidID(f *testing.F) {
	for _, s := range []string{"weather-0001", "", strings.Repeat("z", 64), strings.Repeat("z", 65), "a b", "é", "x\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if want := idRule.MatchString(id); ValidID(id) != want || ValidID([]byte(id)) != want {
			t.Fatalf("ValidID(%q) = %v, the rule says %v", id, ValidID(id), want)
		}
	})
}
