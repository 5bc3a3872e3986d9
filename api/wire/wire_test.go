package wire

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/fieldmint/fieldmint/internal/testenv"
)

// TestCodesAreDocumented: every code the proof API and the explorer answer
// with is named in docs/api.md.
func TestCodesAreDocumented(t *testing.T) { testenv.CodesDocumented(t, ".", "../../docs/api.md") }

func TestLimit(t *testing.T) {
	for q, want := range map[string]uint64{"": 24, "limit=1": 1, "limit=1000": 1000} {
		rec := httptest.NewRecorder()
		if n, ok := Limit(rec, httptest.NewRequest(http.MethodGet, "/x?"+q, nil), 24); !ok || n != want {
			t.Errorf("%q: %d %v, want %d", q, n, ok, want)
		}
	}
	for _, q := range []string{"limit=0", "limit=1001", "limit=x", "limit=-1"} {
		rec := httptest.NewRecorder()
		if _, ok := Limit(rec, httptest.NewRequest(http.MethodGet, "/x?"+q, nil), 24); ok || rec.Code != 400 || !strings.Contains(rec.Body.String(), CodeBadLimit) {
			t.Errorf("%q: accepted, or answered %d %s", q, rec.Code, rec.Body)
		}
	}
}
