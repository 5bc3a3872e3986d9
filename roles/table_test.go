package roles_test

import (
	"strings"
	"testing"

	"github.com/fieldmint/fieldmint/roles"
)

// TestProofAPIConfig: the api section's rpc and distributor default to the
// settle section's; its own win when set; the deprecated settle.apiListen
// still sets the listen address; and a missing distributor says so.
func TestProofAPIConfig(t *testing.T) {
	c := roles.Defaults()
	c.Settle.RPC, c.Settle.Distributor = "http://settle-rpc", "0x1111111111111111111111111111111111111111"
	if a := c.ProofAPI(); a.RPC != "http://settle-rpc" || a.Distributor != c.Settle.Distributor || a.Listen != "127.0.0.1:8081" || a.Validate() != nil {
		t.Errorf("defaults from settle: %+v", a)
	}
	c.API.RPC, c.API.Distributor = "http://api-rpc", "0x2222222222222222222222222222222222222222"
	if a := c.ProofAPI(); a.RPC != "http://api-rpc" || a.Distributor != c.API.Distributor {
		t.Errorf("its own: %+v", a)
	}
	c.Settle.APIListen = "0.0.0.0:9999"
	if a := c.ProofAPI(); a.Listen != "0.0.0.0:9999" {
		t.Errorf("settle.apiListen ignored: %+v", a)
	}
	c.API.Distributor, c.Settle.Distributor = "", ""
	if err := c.ProofAPI().Validate(); err == nil || !strings.Contains(err.Error(), "distributor") {
		t.Errorf("no distributor: %v", err)
	}
	for _, r := range roles.Table {
		if r.Name == "" || r.Summary == "" || len(r.Sections) == 0 || r.Run == nil {
			t.Errorf("role %+v: a name, a summary, its sections and a runner are required", r.Name)
		}
		if got, ok := roles.Lookup(r.Name); !ok || got.Name != r.Name {
			t.Errorf("Lookup(%q) = %v", r.Name, ok)
		}
	}
}
