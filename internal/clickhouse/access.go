package clickhouse

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/ClickHouse/clickhouse-go/v2/lib/proto"
)

// Least privilege: each stage that talks to ClickHouse connects as a user of
// its own, holding one role with only the grants that stage needs, and
// analysts connect under a role that reads the documented analyst tables
// and views and nothing else, under a settings profile and a quota. The
// grants are written once, here, and rendered two ways: as SQL for a server
// whose access entities are managed by SQL (`fieldmint migrate`), and as a
// users file for a server configured by files (the embedded ClickHouse of
// `fieldmint dev`, which runs clickhouse-local: its only access storage is
// the users file it starts with).

// Account is the ClickHouse user one stage connects as.
type Account struct {
	Username string `yaml:"username" help:"ClickHouse user of this stage (empty: clickhouse.username)"`
	Password string `yaml:"password" help:"its password (prefer the environment variable)" secret:"true"`
}

// Users are the stages' own users. A stage whose account is empty connects
// as clickhouse.username.
type Users struct {
	Aggregate Account `yaml:"aggregate"`
	Settle    Account `yaml:"settle"`
	API       Account `yaml:"api"`
	Analyst   Account `yaml:"analyst"`
}

// account returns the account of stage (a role name).
func (u Users) account(stage string) Account {
	switch stage {
	case "aggregate":
		return u.Aggregate
	case "settle":
		return u.Settle
	case "api":
		return u.API
	case "analyst":
		return u.Analyst
	}
	return Account{}
}

// As returns c with the user of stage ("aggregate", "settle", "api",
// "analyst") when clickhouse.users names one.
func (c Config) As(stage string) Config {
	if a := c.Users.account(stage); a.Username != "" {
		c.Username, c.Password = a.Username, a.Password
	}
	return c
}

// AnalystLimits bound what one analyst query and one analyst may use. A
// query past them is stopped by ClickHouse with its own error.
type AnalystLimits struct {
	MaxExecutionTime time.Duration `yaml:"maxExecutionTime" help:"longest an analyst query may run"`
	MaxMemoryUsage   uint64        `yaml:"maxMemoryUsage" help:"most memory (bytes) one analyst query may use"`
	MaxResultRows    uint64        `yaml:"maxResultRows" help:"most rows one analyst query may return"`
	MaxThreads       uint64        `yaml:"maxThreads" help:"most threads all analyst queries together may run at once (the analysts workload's max_concurrent_threads; 0: no cap)"`
	// MaxCPUs caps the CPU time analysts' queries take together, in CPUs
	// (the workload's max_cpus), on a server with cpu_slot_preemption on.
	MaxCPUs          float64 `yaml:"maxCPUs" help:"most CPUs all analyst queries together may use (the analysts workload's max_cpus; needs the server setting cpu_slot_preemption; 0: no cap)"`
	QueriesPerMinute uint64  `yaml:"queriesPerMinute" help:"analyst quota: queries per minute per analyst user"`
	SecondsPerMinute uint64  `yaml:"secondsPerMinute" help:"analyst quota: seconds of query execution per minute per analyst user"`
}

// DefaultAnalystLimits are the limits of a fresh configuration.
func DefaultAnalystLimits() AnalystLimits {
	return AnalystLimits{MaxExecutionTime: 60 * time.Second, MaxMemoryUsage: 2 << 30, MaxResultRows: 1_000_000,
		MaxThreads: 1, MaxCPUs: 0, QueriesPerMinute: 120, SecondsPerMinute: 120}
}

// Limits returns l with each unset (zero) limit at its default; MaxThreads
// 0 stays: no cap.
func (l AnalystLimits) Limits() AnalystLimits {
	d := DefaultAnalystLimits()
	if l.MaxExecutionTime == 0 {
		l.MaxExecutionTime = d.MaxExecutionTime
	}
	if l.MaxMemoryUsage == 0 {
		l.MaxMemoryUsage = d.MaxMemoryUsage
	}
	if l.MaxResultRows == 0 {
		l.MaxResultRows = d.MaxResultRows
	}
	if l.QueriesPerMinute == 0 {
		l.QueriesPerMinute = d.QueriesPerMinute
	}
	if l.SecondsPerMinute == 0 {
		l.SecondsPerMinute = d.SecondsPerMinute
	}
	return l
}

// Stages are the stages with a role of their own, in the order roles are
// created.
var Stages = []string{"aggregate", "settle", "api", "analyst"}

// AnalystTables are the tables and views analysts read (docs/analysts.md
// lists them); nothing else in the database is granted to them.
var AnalystTables = []string{
	"readings", "rejections", "rejections_by_reason", "device_hourly", "cell_hourly", "owner_daily",
	"outcomes_hourly", "epoch_scores", "device_scores", "scored_epochs", "stream_evidence", "epochs",
	"owner_daily_until_19", "epoch_scores_until_19",
	"devices", "devices_current", "rewards", "reward_leaves", "settlement_states", "settlements_latest",
	"settlement_trees", "chain_events", "claims",
}

// writes are the tables each pipeline stage inserts into. Pipeline stages
// read the whole database: their queries span it.
var writes = map[string][]string{
	"aggregate": {"readings", "insert_intents", "epochs", "epoch_cuts", "scored_epochs", "device_scores", "stream_evidence", "devices"},
	"settle":    {"settlement_states", "settlement_trees", "reward_leaves", "settlement_votes", "chain_events", "chain_cursor", "settler_resumes"},
}

// RoleName is the ClickHouse role of stage in database db.
func RoleName(db, stage string) string { return db + "_" + stage }

// Grants returns the privileges of stage's role in db, as GRANT takes them.
func Grants(db, stage string) []string {
	var g []string
	switch stage {
	case "analyst":
		for _, t := range AnalystTables {
			g = append(g, "SELECT ON "+db+"."+t)
		}
		return g
	case "api":
		return []string{"SELECT ON " + db + ".*"}
	}
	g = append(g, "SELECT ON "+db+".*")
	for _, t := range writes[stage] {
		g = append(g, "INSERT ON "+db+"."+t)
	}
	if stage == "settle" {
		// A resume deletes the leaves of the epochs it drops.
		g = append(g, "ALTER DELETE ON "+db+".reward_leaves")
	}
	return g
}

// Workload returns the workload stage's queries run in: the pipeline's
// before the analysts'.
func Workload(db, stage string) string {
	if stage == "analyst" {
		return db + "_analysts"
	}
	return db + "_pipeline"
}

// WorkloadStatements create the CPU resource and the two workloads of db:
// the pipeline (inserts, the epoch close, settlement, proofs) first, the
// analysts after it, with at most l.MaxThreads threads and l.MaxCPUs CPUs
// between them. They need no access management, and are applied by every
// migrate.
func WorkloadStatements(db string, l AnalystLimits) []string {
	analysts := "CREATE OR REPLACE WORKLOAD " + Workload(db, "analyst") + " IN all SETTINGS priority = 1"
	if l.MaxThreads > 0 {
		analysts += fmt.Sprintf(", max_concurrent_threads = %d", l.MaxThreads)
	}
	if l.MaxCPUs > 0 {
		analysts += ", max_cpus = " + strconv.FormatFloat(l.MaxCPUs, 'f', -1, 64)
	}
	// OR REPLACE, not IF NOT EXISTS: seen with chDB 26.7, a restarted
	// server finds the workloads' files but loads none of them, so IF NOT
	// EXISTS skips a root the scheduler does not have, and the children
	// then fail ("references another workload entity 'all' that doesn't
	// exist"). fieldmint owns the root workload all and the resource cpu.
	return []string{
		"CREATE OR REPLACE RESOURCE cpu (MASTER THREAD, WORKER THREAD)",
		"CREATE OR REPLACE WORKLOAD all",
		"CREATE OR REPLACE WORKLOAD " + Workload(db, "aggregate") + " IN all SETTINGS priority = 0",
		analysts,
	}
}

// setting is one setting of a profile, with the analysts' constraint on
// it: whether the user may lower it but not to 0, which means no limit
// (max: between 1 and the value), or not change it at all (const).
type setting struct {
	name, value string
	constraint  string // "", "max" or "const"
}

// profileSettings are the settings of stage's profile; l has its defaults
// applied (Limits).

func profileSettings(db, stage string, l AnalystLimits) []setting {
	s := []setting{{"workload", "'" + Workload(db, stage) + "'", ""}}
	if stage != "analyst" {
		return s
	}
	s[0].constraint = "const"
	return append(s,
		// readonly 2: reads, and settings within the constraints below.
		setting{"readonly", "2", ""},
		setting{"max_execution_time", fmt.Sprint(int64(l.MaxExecutionTime / time.Second)), "max"},
		setting{"max_memory_usage", fmt.Sprint(l.MaxMemoryUsage), "max"},
		setting{"max_result_rows", fmt.Sprint(l.MaxResultRows), "max"},
		setting{"result_overflow_mode", "'throw'", "const"},
	)
}

// AccessSQL returns the statements that create db's roles, profiles and the
// analysts' quota on a server whose access entities are managed by SQL, and
// the users of users that have a username. A role holds exactly the grants
// above: what was granted to it by hand is revoked.
func AccessSQL(db string, users Users, l AnalystLimits) []string {
	l = l.Limits()
	var out []string
	for _, stage := range Stages {
		role := RoleName(db, stage)
		out = append(out, "CREATE ROLE IF NOT EXISTS "+role, "REVOKE ALL ON *.* FROM "+role)
		for _, g := range Grants(db, stage) {
			out = append(out, "GRANT "+g+" TO "+role)
		}
		var set []string
		for _, s := range profileSettings(db, stage, l) {
			switch s.constraint {
			case "max":
				set = append(set, s.name+" = "+s.value+" MIN 1 MAX "+s.value)
			case "const":
				set = append(set, s.name+" = "+s.value+" CONST")
			default:
				set = append(set, s.name+" = "+s.value)
			}
		}
		out = append(out, "CREATE SETTINGS PROFILE OR REPLACE "+role+" SETTINGS "+strings.Join(set, ", ")+" TO "+role)
	}
	out = append(out, fmt.Sprintf("CREATE QUOTA OR REPLACE %s FOR INTERVAL 1 minute MAX queries = %d, execution_time = %d TO %s",
		RoleName(db, "analyst"), l.QueriesPerMinute, l.SecondsPerMinute, RoleName(db, "analyst")))
	for _, stage := range Stages {
		a := users.account(stage)
		if a.Username == "" {
			continue
		}
		role := RoleName(db, stage)
		pw := "IDENTIFIED WITH sha256_password BY " + quote(a.Password)
		out = append(out, "CREATE USER IF NOT EXISTS "+quoteIdent(a.Username)+" "+pw,
			"ALTER USER "+quoteIdent(a.Username)+" "+pw,
			"GRANT "+role+" TO "+quoteIdent(a.Username),
			"ALTER USER "+quoteIdent(a.Username)+" DEFAULT ROLE "+role)
	}
	return out
}

// AccessXML returns a users file (users.xml, or a file in users.d) with
// the same roles, profiles, quota and users as AccessSQL, for a server
// configured by files; passwords are stored as their SHA-256. dbs are the
// databases (each with its users) the file serves.
func AccessXML(dbs map[string]Users, l AnalystLimits) []byte {
	l = l.Limits()
	var profiles, roles, users, quotas strings.Builder
	for _, db := range slices.Sorted(maps.Keys(dbs)) {
		for _, stage := range Stages {
			role := RoleName(db, stage)
			fmt.Fprintf(&profiles, "    <%s>\n", role)
			var constraints strings.Builder
			for _, s := range profileSettings(db, stage, l) {
				fmt.Fprintf(&profiles, "      <%s>%s</%s>\n", s.name, strings.Trim(s.value, "'"), s.name)
				switch s.constraint {
				case "max":
					fmt.Fprintf(&constraints, "        <%s><min>1</min><max>%s</max></%s>\n", s.name, s.value, s.name)
				case "const":
					fmt.Fprintf(&constraints, "        <%s><const/></%s>\n", s.name, s.name)
				}
			}
			if constraints.Len() > 0 {
				fmt.Fprintf(&profiles, "      <constraints>\n%s      </constraints>\n", constraints.String())
			}
			fmt.Fprintf(&profiles, "    </%s>\n", role)
			fmt.Fprintf(&roles, "    <%s>\n      <grants>\n", role)
			for _, g := range Grants(db, stage) {
				fmt.Fprintf(&roles, "        <query>GRANT %s</query>\n", g)
			}
			fmt.Fprintf(&roles, "      </grants>\n    </%s>\n", role)
			a := dbs[db].account(stage)
			if a.Username == "" {
				continue
			}
			sum := sha256.Sum256([]byte(a.Password))
			quota := "default"
			if stage == "analyst" {
				quota = role
			}
			fmt.Fprintf(&users, "    <%s>\n      <password_sha256_hex>%s</password_sha256_hex>\n      <networks><ip>::/0</ip></networks>\n      <profile>%s</profile>\n      <quota>%s</quota>\n      <grants><query>GRANT %s</query></grants>\n    </%s>\n",
				a.Username, hex.EncodeToString(sum[:]), role, quota, role, a.Username)
		}
		fmt.Fprintf(&quotas, "    <%s>\n      <interval>\n        <duration>60</duration>\n        <queries>%d</queries>\n        <execution_time>%d</execution_time>\n      </interval>\n    </%s>\n",
			RoleName(db, "analyst"), l.QueriesPerMinute, l.SecondsPerMinute, RoleName(db, "analyst"))
	}
	return []byte("<clickhouse>\n  <profiles>\n" + profiles.String() + "  </profiles>\n  <roles>\n" + roles.String() +
		"  </roles>\n  <users>\n" + users.String() + "  </users>\n  <quotas>\n" + quotas.String() + "  </quotas>\n</clickhouse>\n")
}

// quote is a ClickHouse string literal.
func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// quoteIdent is a ClickHouse identifier in backquotes.
func quoteIdent(s string) string {
	return "`" + strings.NewReplacer(`\`, `\\`, "`", "\\`").Replace(s) + "`"
}

// AccessResult says what ApplyAccess did beside the workloads.
type AccessResult struct {
	// Roles are the roles created, none on a server whose access entities
	// come from files only (its users file must then hold AccessXML's).
	Roles []string
	Users []string // the users created or updated
}

// ApplyAccess creates db's workloads and, on a server that manages access
// entities by SQL, its roles, profiles and analyst quota, and with
// withUsers the users clickhouse.users names. Errors name the statement's
// kind and the user, never its text: a CREATE USER carries a password.
func ApplyAccess(ctx context.Context, conn driver.Conn, c Config, withUsers bool) (AccessResult, error) {
	var r AccessResult
	for _, stmt := range WorkloadStatements(c.Database, c.Analyst) {
		if err := conn.Exec(ctx, stmt); err != nil {
			return r, fmt.Errorf("clickhouse: workloads: %s: %w", stmt, err)
		}
	}
	var writable uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM system.user_directories WHERE type IN ('local_directory', 'replicated')").Scan(&writable); err != nil {
		return r, fmt.Errorf("clickhouse: read system.user_directories: %w", err)
	}
	if writable == 0 {
		if withUsers {
			return r, errors.New("clickhouse: this server keeps users in configuration files only: install the file `fieldmint migrate --access-xml FILE` writes in its users.d, instead of --users")
		}
		return r, nil
	}
	users := c.Users
	if !withUsers {
		users = Users{}
	}
	for i, stmt := range AccessSQL(c.Database, users, c.Analyst) {
		if err := conn.Exec(ctx, stmt); err != nil {
			words := strings.Fields(stmt)
			kind := strings.Join(words[:min(3, len(words))], " ")
			if strings.Contains(stmt, " IDENTIFIED ") {
				// The server's message may quote the statement, password
				// included: only its code goes on.
				var ex *proto.Exception
				if errors.As(err, &ex) {
					err = fmt.Errorf("code %d (%s)", ex.Code, ex.Name)
				} else {
					err = errors.New("refused")
				}
			}
			return r, fmt.Errorf("clickhouse: roles: statement %d (%s …): %w (the migrating user needs access management: GRANT ACCESS MANAGEMENT, or access_management in its users file)", i+1, kind, err)
		}
	}
	for _, stage := range Stages {
		r.Roles = append(r.Roles, RoleName(c.Database, stage))
		if u := users.account(stage).Username; u != "" {
			r.Users = append(r.Users, u)
		}
	}
	return r, nil
}
