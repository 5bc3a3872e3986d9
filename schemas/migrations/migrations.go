// Package migrations holds the ClickHouse schema as numbered SQL files,
// embedded in the binary. Files are applied in order, once each; every
// statement is idempotent (IF NOT EXISTS) so a migration interrupted half way
// is simply applied again. Never edit a released file: add a new one.
package migrations

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

//go:embed *.sql
var files embed.FS

// Migration is one numbered file, split into statements.
type Migration struct {
	Version    int
	Name       string
	Statements []string
}

// All returns the migrations in version order.
func All() ([]Migration, error) {
	names, err := fs.Glob(files, "*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []Migration
	for _, name := range names {
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number and '_'", name)
		}
		body, err := files.ReadFile(name)
		if err != nil {
			return nil, err
		}
		m := Migration{Version: v, Name: name}
		// Statements end with ';' at the end of a line; comments are dropped.
		var cur strings.Builder
		for _, line := range strings.Split(string(body), "\n") {
			if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "--") {
				continue
			}
			cur.WriteString(line)
			cur.WriteByte('\n')
			if strings.HasSuffix(strings.TrimSpace(line), ";") {
				m.Statements = append(m.Statements, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
				cur.Reset()
			}
		}
		if strings.TrimSpace(cur.String()) != "" {
			return nil, fmt.Errorf("migration %s: last statement lacks ';'", name)
		}
		if len(out) > 0 && out[len(out)-1].Version >= v {
			return nil, fmt.Errorf("migration %s: duplicate version %d", name, v)
		}
		out = append(out, m)
	}
	return out, nil
}
