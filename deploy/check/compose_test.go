package check

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"sigs.k8s.io/yaml"
)

const composeFile = "../compose.yaml"

// filled are the values deploy/.env.example asks an operator for.
var filled = []string{
	"FIELDMINT_DEPLOY_KEY=" + strings.Repeat("1", 64),
	"FIELDMINT_DEPLOYER_ADDRESS=0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A",
	"FIELDMINT_SETTLE_POSTERKEY=" + strings.Repeat("1", 64),
	"FIELDMINT_GUARDIAN=0x00000000000000000000000000000000000000A1",
	"FIELDMINT_FIRST_EPOCH=493000",
	"FIELDMINT_CLICKHOUSE_USERS_AGGREGATE_PASSWORD=a" + strings.Repeat("0", 31),
	"FIELDMINT_CLICKHOUSE_USERS_SETTLE_PASSWORD=s" + strings.Repeat("0", 31),
	"FIELDMINT_CLICKHOUSE_USERS_API_PASSWORD=p" + strings.Repeat("0", 31),
	"FIELDMINT_CLICKHOUSE_USERS_ANALYST_PASSWORD=n" + strings.Repeat("0", 31),
}

func loadCompose(t *testing.T, env []string) (*types.Project, error) {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{composeFile},
		cli.WithWorkingDirectory(".."), cli.WithEnvFiles("../.env.example"), cli.WithDotEnv, cli.WithEnv(env), cli.WithName("fieldmint"))
	if err != nil {
		t.Fatal(err)
	}
	return cli.ProjectFromOptions(context.Background(), opts)
}

// TestComposeLoads: compose-go (docker compose's own loader) accepts
// deploy/compose.yaml once .env holds what .env.example asks for, and
// refuses it, naming the variable, while one is missing. Then: images
// pinned; every dependency waits on a health check or a finished step;
// the contracts are deployed by a step whose file the roles read; the
// broker's log, ClickHouse and the chain on volumes; every role probed on
// its /readyz; Prometheus scraping every role with the alert rules, and
// Grafana provisioned with the dashboard.
func TestComposeLoads(t *testing.T) {
	if _, err := loadCompose(t, nil); err == nil || !strings.Contains(err.Error(), "FIELDMINT_") {
		t.Fatalf("loaded without the .env values: %v", err)
	}
	p, err := loadCompose(t, filled)
	if err != nil {
		t.Fatal(err)
	}
	roles := composeRoles
	for _, name := range append(slices.Clone(roles), "redpanda", "clickhouse", "ethereum", "fund-deployer", "deploy-contracts", "migrate", "otel-collector", "prometheus", "grafana") {
		if _, ok := p.Services[name]; !ok {
			t.Fatalf("no service %s", name)
		}
	}
	for name, s := range p.Services {
		_, tag, _ := strings.Cut(s.Image, ":")
		if tag == "" || tag == "latest" {
			t.Errorf("%s: image %q not pinned", name, s.Image)
		}
		for dep, d := range s.DependsOn {
			switch d.Condition {
			case types.ServiceConditionHealthy:
				if hc := p.Services[dep].HealthCheck; hc == nil || hc.Disable || len(hc.Test) == 0 {
					t.Errorf("%s waits for %s to be healthy, which has no health check", name, dep)
				}
			case types.ServiceConditionCompletedSuccessfully:
				if r := p.Services[dep].Restart; r != "no" && r != "on-failure" {
					t.Errorf("%s waits for %s to complete, which restarts %q", name, dep, r)
				}
			case types.ServiceConditionStarted:
				if dep != "otel-collector" {
					t.Errorf("%s depends on %s without waiting for its health", name, dep)
				}
			}
		}
	}
	for _, role := range roles {
		s := p.Services[role]
		if hc := s.HealthCheck; hc == nil || !slices.Contains(hc.Test, "probe") || !strings.HasSuffix(hc.Test[len(hc.Test)-1], "/readyz") {
			t.Errorf("%s: health check %v, want fieldmint probe .../readyz", role, s.HealthCheck)
		}
		for _, dep := range []string{"redpanda", "clickhouse", "migrate", "deploy-contracts"} {
			if _, ok := s.DependsOn[dep]; !ok {
				t.Errorf("%s starts without waiting for %s", role, dep)
			}
		}
		if f := s.Environment["FIELDMINT_ENV_FILE"]; f == nil || *f != "/contracts/contracts.env" || !mounts(s, "contracts", "/contracts") {
			t.Errorf("%s does not read the deployment deploy-contracts writes", role)
		}
	}
	if n := p.Services["settle"].Deploy; n == nil || n.Replicas == nil || *n.Replicas != 1 {
		t.Error("settle is not exactly one replica")
	}
	dc := p.Services["deploy-contracts"]
	if !slices.Contains(dc.Command, "--out=/contracts/contracts.env") || !slices.Contains(dc.Command, "--env") || !mounts(dc, "contracts", "/contracts") {
		t.Errorf("deploy-contracts: %v", dc.Command)
	}
	if k := dc.Environment["FIELDMINT_DEPLOY_KEY"]; k == nil || *k == "" || slices.ContainsFunc(dc.Command, func(a string) bool { return strings.Contains(a, *k) }) {
		t.Error("deploy-contracts: the key is not in the environment, or is on the command line")
	}
	for svc, dir := range map[string]string{"redpanda": "/var/lib/redpanda/data", "clickhouse": "/var/lib/clickhouse", "ethereum": "/data", "prometheus": "/prometheus", "grafana": "/var/lib/grafana"} {
		if !mounts(p.Services[svc], "", dir) {
			t.Errorf("%s: %s is not on a volume", svc, dir)
		}
	}
	// Every file bind-mounted exists.
	for name, s := range p.Services {
		for _, v := range s.Volumes {
			if v.Type == types.VolumeTypeBind {
				if _, err := os.Stat(v.Source); err != nil {
					t.Errorf("%s mounts %s: %v", name, v.Source, err)
				}
			}
		}
	}
}

// TestComposeMonitoring: Prometheus scrapes every role and loads the rules,
// Grafana's provider reads the mounted dashboards, and the collector's
// pipelines use only components it configures.
func TestComposeMonitoring(t *testing.T) {
	p, err := loadCompose(t, filled)
	if err != nil {
		t.Fatal(err)
	}
	roles := composeRoles
	// Prometheus scrapes every role's metrics port and loads the rules.
	var prom struct {
		RuleFiles     []string `json:"rule_files"`
		ScrapeConfigs []struct {
			JobName      string `json:"job_name"`
			DNSSDConfigs []struct {
				Names []string `json:"names"`
				Port  int      `json:"port"`
			} `json:"dns_sd_configs"`
		} `json:"scrape_configs"`
	}
	readYAML(t, "../monitoring/prometheus.yml", &prom)
	for _, role := range roles {
		var found bool
		for _, sc := range prom.ScrapeConfigs {
			for _, d := range sc.DNSSDConfigs {
				found = found || (sc.JobName == "fieldmint-"+role && slices.Contains(d.Names, role) && d.Port == 9464)
			}
		}
		if !found {
			t.Errorf("Prometheus does not scrape %s:9464 as job fieldmint-%s", role, role)
		}
	}
	if !slices.Contains(prom.RuleFiles, "/etc/prometheus/alerts.yaml") || !mountsFile(p.Services["prometheus"], "alerts.yaml", "/etc/prometheus/alerts.yaml") {
		t.Error("Prometheus does not load the alert rules")
	}
	var provider struct {
		Providers []struct {
			Options struct {
				Path string `json:"path"`
			} `json:"options"`
		} `json:"providers"`
	}
	readYAML(t, "../monitoring/grafana/dashboards.yaml", &provider)
	if len(provider.Providers) != 2 {
		t.Errorf("Grafana has %d dashboard providers, want 2 (operations, network)", len(provider.Providers))
	}
	for _, pr := range provider.Providers {
		if !mounts(p.Services["grafana"], "", pr.Options.Path) {
			t.Errorf("Grafana's dashboard provider reads %s, which nothing is mounted on", pr.Options.Path)
		}
	}
	checkAnalystDataSource(t, p)

	// The collector's pipelines use only components it configures.
	var col struct {
		Receivers, Processors, Exporters map[string]any
		Service                          struct {
			Pipelines map[string]struct{ Receivers, Processors, Exporters []string }
		}
	}
	readYAML(t, "../monitoring/otel-collector.yaml", &col)
	for name, pl := range col.Service.Pipelines {
		for kind, list := range map[string][]string{"receiver": pl.Receivers, "processor": pl.Processors, "exporter": pl.Exporters} {
			defined := map[string]map[string]any{"receiver": col.Receivers, "processor": col.Processors, "exporter": col.Exporters}[kind]
			for _, c := range list {
				if _, ok := defined[c]; !ok {
					t.Errorf("collector pipeline %s uses %s %s, which is not configured", name, kind, c)
				}
			}
		}
	}
	if len(col.Service.Pipelines) == 0 {
		t.Error("the collector has no pipeline")
	}
}

// composeRoles are the roles compose runs.
var composeRoles = []string{"ingest", "validate", "aggregate", "settle", "api"}

// mounts reports whether s mounts a volume (named volume, when not "") at target.
func mounts(s types.ServiceConfig, volume, target string) bool {
	return slices.ContainsFunc(s.Volumes, func(v types.ServiceVolumeConfig) bool {
		return v.Target == target && (volume == "" || (v.Type == types.VolumeTypeVolume && v.Source == volume))
	})
}

func mountsFile(s types.ServiceConfig, base, target string) bool {
	return slices.ContainsFunc(s.Volumes, func(v types.ServiceVolumeConfig) bool {
		return v.Target == target && filepath.Base(v.Source) == base
	})
}

func readYAML(t *testing.T, path string, into any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, into); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// checkAnalystDataSource: Grafana's ClickHouse data source connects as the
// analyst user migrate --users creates, with the same password, and every
// panel of the network dashboard uses it.
func checkAnalystDataSource(t *testing.T, p *types.Project) {
	var dss struct {
		Datasources []struct {
			UID, Type string
			JSONData  map[string]any    `json:"jsonData"`
			Secure    map[string]string `json:"secureJsonData"`
		} `json:"datasources"`
	}
	readYAML(t, "../monitoring/grafana/datasources.yaml", &dss)
	migrate, grafana := p.Services["migrate"], p.Services["grafana"]
	if !slices.Contains(migrate.Command, "--users") {
		t.Errorf("migrate does not create the users: %v", migrate.Command)
	}
	if !mountsFile(p.Services["clickhouse"], "access-management.xml", "/etc/clickhouse-server/users.d/fieldmint-access-management.xml") {
		t.Error("the compose ClickHouse does not let migrate manage access")
	}
	env := func(s types.ServiceConfig, k string) string {
		if v := s.Environment[k]; v != nil {
			return *v
		}
		return ""
	}
	found := false
	for _, ds := range dss.Datasources {
		if ds.UID != "clickhouse-analyst" {
			continue
		}
		found = true
		if ds.Type != "grafana-clickhouse-datasource" || !slices.Contains(strings.Split(env(grafana, "GF_PLUGINS_PREINSTALL"), ","), ds.Type) {
			t.Errorf("the analyst data source's plugin %q is not installed (%q)", ds.Type, env(grafana, "GF_PLUGINS_PREINSTALL"))
		}
		if u := ds.JSONData["username"]; u != env(migrate, "FIELDMINT_CLICKHOUSE_USERS_ANALYST_USERNAME") || u == "" {
			t.Errorf("Grafana connects as %v, migrate creates the analyst %q", u, env(migrate, "FIELDMINT_CLICKHOUSE_USERS_ANALYST_USERNAME"))
		}
		pw := strings.TrimPrefix(ds.Secure["password"], "$")
		if want := env(migrate, "FIELDMINT_CLICKHOUSE_USERS_ANALYST_PASSWORD"); want == "" || env(grafana, pw) != want {
			t.Errorf("Grafana's analyst password ($%s) is not the one migrate sets", pw)
		}
	}
	if !found {
		t.Fatal("no ClickHouse data source clickhouse-analyst")
	}
	var dash struct {
		Panels []struct {
			Title      string
			Datasource struct{ UID string }
			Targets    []struct {
				RawSQL     string `json:"rawSql"`
				Datasource struct{ UID string }
			}
		}
	}
	readYAML(t, "../monitoring/grafana/network/network.json", &dash)
	if len(dash.Panels) < 4 {
		t.Fatalf("the network dashboard has %d panels", len(dash.Panels))
	}
	for _, pn := range dash.Panels {
		if pn.Datasource.UID != "clickhouse-analyst" || len(pn.Targets) == 0 {
			t.Errorf("panel %q: data source %q", pn.Title, pn.Datasource.UID)
		}
		for _, tg := range pn.Targets {
			if tg.Datasource.UID != "clickhouse-analyst" || tg.RawSQL == "" {
				t.Errorf("panel %q: a target without SQL on the analyst's data source", pn.Title)
			}
		}
	}
}
