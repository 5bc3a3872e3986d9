package migrations

import "testing"

func TestAllParses(t *testing.T) {
	ms, err := All()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || ms[0].Version != 1 {
		t.Fatalf("want migrations starting at 1, got %+v", ms)
	}
	for _, m := range ms {
		if len(m.Statements) == 0 {
			t.Errorf("%s has no statements", m.Name)
		}
	}
}
