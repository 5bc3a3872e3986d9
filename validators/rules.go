package validators

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// LoadRules returns DefaultRules with the thresholds a YAML file sets
// (validate.rulesFile; "" keeps the defaults). The file maps kind names
// (weather, or RESOURCE_KIND_WEATHER) to the KindRules fields it changes;
// fields and measurements it does not name keep their defaults:
//
//	weather:
//	  stuckAfter: 20
//	  maxJump: {temperature_c: 8000}
//	  measurements:
//	    temperature_c: {min: -60000, max: 60000}
func LoadRules(path string) (map[pb.ResourceKind]KindRules, error) {
	rules := DefaultRules()
	if path == "" {
		return rules, nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("validate.rulesFile: %w", err)
	}
	var doc map[string]yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("validate.rulesFile %s: %w", path, err)
	}
	for name, node := range doc {
		kind, ok := pb.ResourceKind_value[strings.ToUpper(name)]
		if !ok {
			kind, ok = pb.ResourceKind_value["RESOURCE_KIND_"+strings.ToUpper(name)]
		}
		if !ok || kind == 0 {
			return nil, fmt.Errorf("validate.rulesFile %s: %q is not a resource kind (hotspot, weather, energy, bandwidth)", path, name)
		}
		r := rules[pb.ResourceKind(kind)]
		r.Measurements, r.MaxJump = maps.Clone(r.Measurements), maps.Clone(r.MaxJump)
		// Through a strict decoder: a misspelt threshold is an error, not a default.
		body, err := yaml.Marshal(&node)
		if err != nil {
			return nil, err
		}
		dec := yaml.NewDecoder(bytes.NewReader(body))
		dec.KnownFields(true)
		if err := dec.Decode(&r); err != nil {
			return nil, fmt.Errorf("validate.rulesFile %s, %s: %w", path, name, err)
		}
		for m, rg := range r.Measurements {
			if rg.Min > rg.Max {
				return nil, fmt.Errorf("validate.rulesFile %s, %s: measurement %s has min %d above max %d", path, name, m, rg.Min, rg.Max)
			}
		}
		rules[pb.ResourceKind(kind)] = r
	}
	return rules, nil
}
