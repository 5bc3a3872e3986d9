package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/fieldmint/fieldmint/devstack"
	"github.com/fieldmint/fieldmint/internal/config"
)

// option is one leaf of the configuration: its dotted name and its field.
type option struct {
	name   string
	field  reflect.StructField
	secret bool
}

// options lists every option of c by walking its YAML tags, independently
// of the config package's own walk.
func options(t reflect.Type, prefix string) []option {
	var out []option
	for i := range t.NumField() {
		f := t.Field(i)
		tag, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if f.Anonymous && opts == "inline" {
			out = append(out, options(f.Type, prefix)...)
			continue
		}
		if !f.IsExported() || tag == "" || tag == "-" {
			continue
		}
		name := strings.TrimPrefix(prefix+"."+tag, ".")
		if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(time.Duration(0)) {
			out = append(out, options(f.Type, name)...)
			continue
		}
		out = append(out, option{name: name, field: f, secret: f.Tag.Get("secret") == "true"})
	}
	return out
}

// field returns the value of the option name in c.
func field(c reflect.Value, name string) reflect.Value {
	for _, part := range strings.Split(name, ".") {
		for i := range c.NumField() {
			f := c.Type().Field(i)
			if tag, opts, _ := strings.Cut(f.Tag.Get("yaml"), ","); f.Anonymous && opts == "inline" {
				if v := field(c.Field(i), part); v.IsValid() {
					c = v
					goto next
				}
			} else if tag == part {
				c = c.Field(i)
				goto next
			}
		}
		return reflect.Value{}
	next:
	}
	return c
}

// sample returns a value for an option of type typ that differs from its
// default def, as text and as what the field then holds.
func sample(typ reflect.Type, def reflect.Value) (string, any) {
	if typ == reflect.TypeOf(time.Duration(0)) {
		d := 7*time.Second + time.Duration(def.Int())
		return d.String(), d
	}
	switch typ.Kind() {
	case reflect.String:
		return "x-" + def.String(), "x-" + def.String()
	case reflect.Bool:
		return fmt.Sprint(!def.Bool()), !def.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n := reflect.New(typ).Elem()
		n.SetInt(def.Int() + 3)
		return fmt.Sprint(def.Int() + 3), n.Interface()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n := reflect.New(typ).Elem()
		n.SetUint(def.Uint() + 3)
		return fmt.Sprint(def.Uint() + 3), n.Interface()
	case reflect.Float64:
		return fmt.Sprint(def.Float() + 0.5), def.Float() + 0.5
	case reflect.Slice:
		return "a:1,b:2", []string{"a:1", "b:2"}
	}
	return "", nil
}

// TestEveryOption sets each option of every section, one at a time, by
// flag, by environment variable and by file, and finds it set; a secret
// is refused as a flag (a command line shows in ps) and read from the
// other two.
func TestEveryOption(t *testing.T) {
	all := options(reflect.TypeOf(devstack.Config{}), "")
	if len(all) < 60 {
		t.Fatalf("found %d options; the walk is broken", len(all))
	}
	for _, o := range all {
		def := field(reflect.ValueOf(devstack.Defaults()), o.name)
		text, want := sample(o.field.Type, def)
		if want == nil {
			t.Errorf("%s: no sample for type %s (add one, and make sure config can set it)", o.name, o.field.Type)
			continue
		}
		env := config.EnvPrefix + strings.ToUpper(strings.NewReplacer(".", "_").Replace(o.name))
		// The file: the option's value nested under its path.
		var doc any = text
		if l, ok := want.([]string); ok {
			doc = l
		} else if o.field.Type.Kind() != reflect.String && o.field.Type != reflect.TypeOf(time.Duration(0)) {
			doc = want
		}
		parts := strings.Split(o.name, ".")
		for i := len(parts) - 1; i >= 0; i-- {
			doc = map[string]any{parts[i]: doc}
		}
		raw, _ := yaml.Marshal(doc)
		path := filepath.Join(t.TempDir(), "c.yaml")
		if err := os.WriteFile(path, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, way := range []string{"flag", "env", "file"} {
			cfg := devstack.Defaults()
			var args []string
			switch way {
			case "flag":
				args = []string{"--" + o.name, text}
			case "env":
				t.Setenv(env, text)
			case "file":
				args = []string{"--config", path}
			}
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			fs.SetOutput(new(strings.Builder))
			err := config.Load(fs, &cfg, nil, args)
			os.Unsetenv(env)
			if way == "flag" && o.secret {
				if err == nil || !strings.Contains(err.Error(), env) {
					t.Errorf("%s: a secret accepted as a flag (%v); it should name %s", o.name, err, env)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s by %s: %v", o.name, way, err)
				continue
			}
			if got := field(reflect.ValueOf(cfg), o.name).Interface(); !reflect.DeepEqual(got, want) {
				t.Errorf("%s by %s (%q): got %#v, want %#v", o.name, way, text, got, want)
			}
		}
	}
}
