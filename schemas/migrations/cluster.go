package migrations

import (
	"fmt"
	"regexp"
	"strings"
)

// The statement forms the migrations use, and what each becomes on a cluster.
var (
	createObject = regexp.MustCompile(`^(CREATE (?:OR REPLACE VIEW|(?:TABLE|VIEW|MATERIALIZED VIEW) IF NOT EXISTS) [A-Za-z_][A-Za-z0-9_]*)`)
	alterTable   = regexp.MustCompile(`^(ALTER TABLE [A-Za-z_][A-Za-z0-9_]*)`)
	dropView     = regexp.MustCompile(`^DROP VIEW IF EXISTS [A-Za-z_][A-Za-z0-9_]*$`)
	renameTable  = regexp.MustCompile(`^RENAME TABLE IF EXISTS [A-Za-z_][A-Za-z0-9_]* TO [A-Za-z_][A-Za-z0-9_]*$`)
	engine       = regexp.MustCompile(`ENGINE = ((?:Summing|Replacing|Aggregating)?MergeTree)\b`)
	dedupWindow  = regexp.MustCompile(`\bnon_replicated_deduplication_window\b`)
	clusterName  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)
)

// ForCluster rewrites a statement for a ClickHouse cluster: DDL runs
// ON CLUSTER (on every node, through the distributed DDL queue; the forms
// are CREATE, ALTER TABLE, DROP VIEW IF EXISTS and RENAME TABLE IF EXISTS,
// the last two idempotent as a re-run of an interrupted upgrade needs), MergeTree
// engines become their Replicated forms (with the server's default
// replication path, default_replica_path and default_replica_name), and the
// deduplication window that single servers need becomes the replicated one.
// INSERTs (a rollup's backfill) are left alone: replication copies their
// result.
func ForCluster(stmt, cluster string) (string, error) {
	if !clusterName.MatchString(cluster) {
		return "", fmt.Errorf("migrations: cluster name %q must match %s", cluster, clusterName)
	}
	on := " ON CLUSTER '" + cluster + "'"
	switch {
	case createObject.MatchString(stmt):
		stmt = createObject.ReplaceAllString(stmt, "${1}"+on)
	case alterTable.MatchString(stmt):
		stmt = alterTable.ReplaceAllString(stmt, "${1}"+on)
	case dropView.MatchString(stmt), renameTable.MatchString(stmt):
		stmt += on
	case strings.HasPrefix(stmt, "INSERT INTO "):
		return stmt, nil
	default:
		return "", fmt.Errorf("migrations: no cluster form for statement %.60q", stmt)
	}
	stmt = engine.ReplaceAllString(stmt, "ENGINE = Replicated$1")
	return dedupWindow.ReplaceAllString(stmt, "replicated_deduplication_window"), nil
}

// ForClusterOrNot is ForCluster when cluster is set, else stmt unchanged.
func ForClusterOrNot(stmt, cluster string) (string, error) {
	if cluster == "" {
		return stmt, nil
	}
	return ForCluster(stmt, cluster)
}
