// Package config fills a configuration struct from, in increasing order of
// precedence: the defaults already in it, a YAML file, FIELDMINT_* environment
// variables (and FIELDMINT_ENV_FILE's lines) and command-line flags.
//
// Every exported field with a `yaml` tag is an option. Its flag is the dotted
// YAML path (--kafka.brokers) and its variable the same path upper-cased with
// '_' (FIELDMINT_KAFKA_BROKERS); its `help` tag is the flag's usage. Fields
// tagged `secret:"true"` never show their value and are refused as flags (a
// command line shows in ps): environment or file only. Unknown YAML keys are
// errors.
//
// Hand-written rather than a config library: the whole contract is the ~150
// lines below, and it keeps file, environment and flags in one naming scheme.
package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// EnvPrefix starts every environment variable this package reads.
const EnvPrefix = "FIELDMINT_"

// Load fills cfg (a pointer to a struct) for a command whose options are the
// top-level sections named. It reads --config FILE (or FIELDMINT_CONFIG) from
// args, then the environment, then registers and parses the flags on fs.
func Load(fs *flag.FlagSet, cfg any, sections []string, args []string) error {
	path := os.Getenv(EnvPrefix + "CONFIG")
	for i, a := range args {
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if name != "config" || !strings.HasPrefix(a, "-") {
			continue
		}
		if hasVal {
			path = val
		} else if i+1 < len(args) {
			path = args[i+1]
		}
	}
	if path != "" {
		raw, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("config file: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(raw))
		dec.KnownFields(true)
		if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("config file %s: %w", path, err)
		}
	}
	fs.String("config", path, "YAML configuration file (env "+EnvPrefix+"CONFIG); environment variables and flags override it")
	fromFile, err := readEnvFile(os.Getenv(EnvPrefix + "ENV_FILE"))
	if err != nil {
		return err
	}
	lookup := func(env string) (string, bool) {
		if s, ok := os.LookupEnv(env); ok {
			return s, true
		}
		s, ok := fromFile[env]
		return s, ok
	}
	var errs []error
	walk(reflect.ValueOf(cfg).Elem(), "", sections, func(name string, v reflect.Value, f reflect.StructField) {
		env := EnvPrefix + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(name))
		if s, ok := lookup(env); ok {
			if err := set(v, s); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", env, err))
			}
		}
		usage := f.Tag.Get("help") + " (env " + env + ")"
		secret := f.Tag.Get("secret") == "true"
		if secret {
			usage += "; a secret: environment or file only"
		}
		fs.Var(&value{v: v, secret: secret, env: env}, name, usage)
	})
	if err := errors.Join(errs...); err != nil {
		return err
	}
	// A secret on the command line shows in ps and shell history: refused,
	// before the flag package could echo its value in an error.
	for _, a := range args {
		if a == "--" {
			break
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if f := fs.Lookup(name); strings.HasPrefix(a, "-") && f != nil {
			if x, ok := f.Value.(*value); ok && x.secret {
				return fmt.Errorf("--%s is a secret: set %s or put it in the config file, not on the command line", name, x.env)
			}
		}
	}
	return fs.Parse(args)
}

// readEnvFile reads FIELDMINT_ENV_FILE: FIELDMINT_*=value lines (blank
// lines and # comments allowed), as `fieldmint deploy-contracts --env` writes
// them, taken as if they were in the environment; a variable that is in the
// environment wins. It lets an image without a shell read a file another
// step wrote (compose's contract deployment, a mounted Secret). Hand-written:
// the format is one split per line, with no quoting to interpret.
func readEnvFile(path string) (map[string]string, error) {
	if path == "" {
		return nil, nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%sENV_FILE: %w", EnvPrefix, err)
	}
	vars := map[string]string{}
	for i, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || !strings.HasPrefix(k, EnvPrefix) {
			return nil, fmt.Errorf("%sENV_FILE %s line %d: want %sNAME=value", EnvPrefix, path, i+1, EnvPrefix)
		}
		vars[k] = v
	}
	return vars, nil
}

func walk(v reflect.Value, prefix string, sections []string, fn func(string, reflect.Value, reflect.StructField)) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if f.Anonymous && opts == "inline" {
			// An embedded configuration (yaml ",inline"): its sections are
			// this one's.
			walk(v.Field(i), prefix, sections, fn)
			continue
		}
		if !f.IsExported() || tag == "" || tag == "-" {
			continue
		}
		if prefix == "" && sections != nil && !contains(sections, tag) {
			continue
		}
		name := tag
		if prefix != "" {
			name = prefix + "." + tag
		}
		fv := v.Field(i)
		if fv.Kind() == reflect.Struct && fv.Type() != reflect.TypeOf(time.Duration(0)) {
			walk(fv, name, nil, fn)
			continue
		}
		fn(name, fv, f)
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

// value adapts a struct field to flag.Value.
type value struct {
	v      reflect.Value
	secret bool
	env    string
}

func (x *value) String() string {
	if x == nil || !x.v.IsValid() {
		return ""
	}
	if x.secret {
		if x.v.String() != "" {
			return "(set)"
		}
		return ""
	}
	switch x.v.Kind() {
	case reflect.Slice:
		return strings.Join(x.v.Interface().([]string), ",")
	default:
		return fmt.Sprint(x.v.Interface())
	}
}

func (x *value) Set(s string) error { return set(x.v, s) }

func (x *value) IsBoolFlag() bool { return x.v.Kind() == reflect.Bool }

func set(v reflect.Value, s string) error {
	if v.Type() == reflect.TypeOf(time.Duration(0)) {
		d, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		v.SetInt(int64(d))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return err
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, v.Type().Bits())
		if err != nil {
			return err
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(s, 10, v.Type().Bits())
		if err != nil {
			return err
		}
		v.SetUint(n)
	case reflect.Float64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return err
		}
		v.SetFloat(f)
	case reflect.Slice:
		var parts []string
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, p)
			}
		}
		v.Set(reflect.ValueOf(parts))
	default:
		return fmt.Errorf("unsupported option type %s", v.Type())
	}
	return nil
}
