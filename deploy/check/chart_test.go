package check

import (
	"encoding/json"
	"os"
	"path"
	"reflect"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	"helm.sh/helm/v3/pkg/releaseutil"
)

const chartDir = "../helm/fieldmint"

// The custom resources the chart may render, from the operators it
// expects: kube-prometheus-stack, Strimzi, Altinity's ClickHouse operator.
// Their schemas are not in k8s.io/api; they are checked field by field below.
var customKinds = map[string]bool{
	"monitoring.coreos.com/v1/PodMonitor":                            true,
	"monitoring.coreos.com/v1/PrometheusRule":                        true,
	"kafka.strimzi.io/v1beta2/Kafka":                                 true,
	"kafka.strimzi.io/v1beta2/KafkaNodePool":                         true,
	"kafka.strimzi.io/v1beta2/KafkaUser":                             true,
	"clickhouse.altinity.com/v1/ClickHouseInstallation":              true,
	"clickhouse-keeper.altinity.com/v1/ClickHouseKeeperInstallation": true,
}

// render renders the chart as `helm install fm` would, with overrides
// merged into values.yaml, and decodes every object strictly: into its
// Kubernetes API type (an unknown or misspelt field fails), or, for the
// operators' custom resources, into a map.
func render(t *testing.T, overrides map[string]any) map[string][]any {
	t.Helper()
	chrt, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	caps := chartutil.DefaultCapabilities.Copy()
	caps.KubeVersion = chartutil.KubeVersion{Version: "v1.33.0", Major: "1", Minor: "33"}
	vals, err := chartutil.ToRenderValues(chrt, overrides, chartutil.ReleaseOptions{Name: "fm", Namespace: "fieldmint", IsInstall: true}, caps)
	if err != nil {
		t.Fatal(err)
	}
	files, err := engine.Render(chrt, vals)
	if err != nil {
		t.Fatal(err)
	}
	objects := map[string][]any{}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if strings.HasSuffix(name, "NOTES.txt") || strings.HasPrefix(path.Base(name), "_") {
			continue
		}
		for _, doc := range releaseutil.SplitManifests(files[name]) {
			if strings.TrimSpace(strings.ReplaceAll(doc, "---", "")) == "" {
				continue
			}
			var head struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
				Metadata   struct {
					Name string `json:"name"`
				} `json:"metadata"`
			}
			if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
				t.Fatalf("%s: %v\n%s", name, err, doc)
			}
			if head.Kind == "" || head.APIVersion == "" || head.Metadata.Name == "" {
				t.Fatalf("%s: an object without apiVersion, kind or name:\n%s", name, doc)
			}
			gvk := schema.FromAPIVersionAndKind(head.APIVersion, head.Kind)
			var obj any
			if customKinds[head.APIVersion+"/"+head.Kind] {
				m := map[string]any{}
				if err := yaml.UnmarshalStrict([]byte(doc), &m); err != nil {
					t.Fatalf("%s %s: %v", head.Kind, head.Metadata.Name, err)
				}
				obj = m
			} else {
				typed, err := kscheme.Scheme.New(gvk)
				if err != nil {
					t.Fatalf("%s: %s is neither a Kubernetes kind nor an expected operator's: %v", name, gvk, err)
				}
				if err := yaml.UnmarshalStrict([]byte(doc), typed); err != nil {
					t.Fatalf("%s %s does not decode strictly into %T: %v\n%s", head.Kind, head.Metadata.Name, typed, err, doc)
				}
				obj = typed
			}
			objects[head.Kind] = append(objects[head.Kind], obj)
		}
	}
	return objects
}

// typed returns the objects of one kind by name.
func typed[T metav1.Object](objects map[string][]any, kind string) map[string]T {
	out := map[string]T{}
	for _, o := range objects[kind] {
		t := o.(T)
		out[t.GetName()] = t
	}
	return out
}

// TestChartLints: `helm lint` with the chart's values finds no error.
func TestChartLints(t *testing.T) {
	kv, _ := chartutil.ParseKubeVersion("v1.33.0")
	l := lint.AllWithKubeVersion(chartDir, nil, "fieldmint", kv)
	for _, m := range l.Messages {
		if m.Severity >= support.WarningSev {
			t.Errorf("helm lint: %s", m)
		}
	}
}

// TestChartRenders: the chart renders into objects an operator can apply:
// every role a Deployment with pinned image, probes on real dependencies,
// resources and a disruption budget; Services for ingest and the proof API;
// autoscaling for both; the settler alone, Recreate, its key a mounted
// secret file; the migration a pre-install/pre-upgrade Job; the alert rules
// and the dashboard as the Prometheus Operator and Grafana read them.
func TestChartRenders(t *testing.T) {
	objects := render(t, nil)
	deployments := typed[*appsv1.Deployment](objects, "Deployment")
	for _, role := range []string{"ingest", "validate", "aggregate", "api", "settle"} {
		d, ok := deployments["fm-"+role]
		if !ok {
			t.Fatalf("no Deployment fm-%s (have %v)", role, keys(deployments))
		}
		checkPod(t, role, d.Spec.Template.Spec, true)
		if got := d.Spec.Selector.MatchLabels["app.kubernetes.io/component"]; got != role || d.Spec.Template.Labels["app.kubernetes.io/component"] != role {
			t.Errorf("%s: selector %v does not select its pods %v", role, d.Spec.Selector.MatchLabels, d.Spec.Template.Labels)
		}
	}
	settle := deployments["fm-settle"]
	if settle.Spec.Replicas == nil || *settle.Spec.Replicas != 1 || settle.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
		t.Errorf("settle: replicas %v, strategy %s; want exactly 1, Recreate", settle.Spec.Replicas, settle.Spec.Strategy.Type)
	}
	var posterFile bool
	for _, v := range settle.Spec.Template.Spec.Volumes {
		if v.Secret != nil && v.Secret.SecretName == "fieldmint-poster" {
			posterFile = true
		}
	}
	if !posterFile {
		t.Error("settle: the poster keystore is not mounted from its Secret")
	}
	for name, d := range deployments {
		for _, c := range d.Spec.Template.Spec.Containers {
			for _, e := range c.Env {
				if strings.Contains(e.Name, "POSTERKEY") {
					t.Errorf("%s: the raw poster key in the environment (%s)", name, e.Name)
				}
			}
			for _, v := range d.Spec.Template.Spec.Volumes {
				if v.Secret != nil && v.Secret.SecretName == "fieldmint-poster" && name != "fm-settle" {
					t.Errorf("%s mounts the poster key", name)
				}
			}
		}
	}

	jobs := typed[*batchv1.Job](objects, "Job")
	migrate, ok := jobs["fm-migrate"]
	if !ok || migrate.Annotations["helm.sh/hook"] != "pre-install,pre-upgrade" {
		t.Fatalf("the migration Job: %v", jobs)
	}
	checkPod(t, "migrate", migrate.Spec.Template.Spec, false)
	if args := migrate.Spec.Template.Spec.Containers[0].Args; len(args) == 0 || args[0] != "migrate" {
		t.Errorf("the migration Job runs %v", args)
	}
	configMaps := typed[*corev1.ConfigMap](objects, "ConfigMap")
	if cm := configMaps[migrate.Spec.Template.Spec.Volumes[0].ConfigMap.Name]; cm == nil || cm.Annotations["helm.sh/hook"] == "" {
		t.Error("the migration Job's ConfigMap is not a hook created before it")
	}

	services := typed[*corev1.Service](objects, "Service")
	for role, port := range map[string]int32{"ingest": 8080, "api": 8081} {
		s, ok := services["fm-"+role]
		if !ok || s.Spec.Ports[0].Port != port || s.Spec.Selector["app.kubernetes.io/component"] != role {
			t.Errorf("Service fm-%s: %+v", role, s)
			continue
		}
		var named bool
		for _, c := range deployments["fm-"+role].Spec.Template.Spec.Containers {
			for _, p := range c.Ports {
				named = named || (p.Name == s.Spec.Ports[0].TargetPort.String() && p.ContainerPort == port)
			}
		}
		if !named {
			t.Errorf("Service fm-%s targets port %q, which its pods do not have", role, s.Spec.Ports[0].TargetPort.String())
		}
	}
	checkIngestMQTT(t, deployments["fm-ingest"], services["fm-ingest"])
	pdbs := typed[*policyv1.PodDisruptionBudget](objects, "PodDisruptionBudget")
	hpas := typed[*autoscalingv2.HorizontalPodAutoscaler](objects, "HorizontalPodAutoscaler")
	for _, role := range []string{"ingest", "validate", "aggregate", "api"} {
		if p, ok := pdbs["fm-"+role]; !ok || p.Spec.Selector.MatchLabels["app.kubernetes.io/component"] != role {
			t.Errorf("no disruption budget selecting %s", role)
		}
	}
	for _, role := range []string{"ingest", "api"} {
		h, ok := hpas["fm-"+role]
		if !ok || h.Spec.ScaleTargetRef.Name != "fm-"+role || h.Spec.MaxReplicas <= *h.Spec.MinReplicas {
			t.Errorf("autoscaling of %s: %+v", role, h)
		}
		if deployments["fm-"+role].Spec.Replicas != nil {
			t.Errorf("%s: replicas set while autoscaled (every upgrade would reset the autoscaler's count)", role)
		}
	}

	// The rules and the dashboard the chart ships are the files in files/.
	alerts, _ := os.ReadFile(chartDir + "/files/alerts.yaml")
	var want map[string]any
	if err := yaml.Unmarshal(alerts, &want); err != nil {
		t.Fatal(err)
	}
	rules := objects["PrometheusRule"]
	if len(rules) != 1 || !reflect.DeepEqual(rules[0].(map[string]any)["spec"], want) {
		t.Errorf("the PrometheusRule is not files/alerts.yaml")
	}
	dash := configMaps["fm-dashboards"]
	if dash == nil || dash.Labels["grafana_dashboard"] != "1" || !json.Valid([]byte(dash.Data["fieldmint.json"])) {
		t.Error("the dashboard ConfigMap is missing, unlabelled or not JSON")
	}
	if len(objects["PodMonitor"]) != 1 {
		t.Error("no PodMonitor for the roles' metrics")
	}
	if len(objects["Kafka"])+len(objects["ClickHouseInstallation"]) != 0 {
		t.Error("operators' resources rendered while their switches are off")
	}
}

// checkIngestMQTT: ingest listens for MQTT on 1883 (its flag), and its
// Service exposes it.
func checkIngestMQTT(t *testing.T, d *appsv1.Deployment, svc *corev1.Service) {
	t.Helper()
	if d == nil || svc == nil {
		t.Fatal("no ingest Deployment or Service")
	}
	ingest := d.Spec.Template.Spec.Containers[0]
	var mqttPort, mqttSvc bool
	for _, p := range ingest.Ports {
		mqttPort = mqttPort || (p.Name == "mqtt" && p.ContainerPort == 1883)
	}
	for _, p := range svc.Spec.Ports {
		mqttSvc = mqttSvc || (p.Name == "mqtt" && p.Port == 1883 && p.TargetPort.String() == "mqtt")
	}
	if !mqttPort || !mqttSvc || !strings.Contains(strings.Join(ingest.Args, " "), "--ingest.mqttListen 0.0.0.0:1883") {
		t.Errorf("ingest's MQTT: container port %v, Service port %v, args %v", mqttPort, mqttSvc, ingest.Args)
	}
}

// TestChartOptions: with the operators on, Strimzi's Kafka and user and
// Altinity's ClickHouse with Keeper render; with autoscaling off, replicas
// are set; a digest wins over the tag.
func TestChartOptions(t *testing.T) {
	objects := render(t, map[string]any{
		"kafka":      map[string]any{"strimzi": map[string]any{"enabled": true}},
		"clickhouse": map[string]any{"altinity": map[string]any{"enabled": true}},
		"ingest":     map[string]any{"autoscaling": map[string]any{"enabled": false}, "replicas": 5},
		"image":      map[string]any{"digest": "sha256:" + strings.Repeat("ab", 32)},
		"monitoring": map[string]any{"prometheusRule": map[string]any{"enabled": false}},
	})
	for _, kind := range []string{"Kafka", "KafkaNodePool", "KafkaUser", "ClickHouseInstallation", "ClickHouseKeeperInstallation"} {
		if len(objects[kind]) != 1 {
			t.Errorf("%d %s, want 1", len(objects[kind]), kind)
		}
	}
	kafka := objects["Kafka"][0].(map[string]any)
	cfg := kafka["spec"].(map[string]any)["kafka"].(map[string]any)["config"].(map[string]any)
	if cfg["min.insync.replicas"] != float64(2) {
		t.Errorf("Strimzi's Kafka without min.insync.replicas 2: %v", cfg)
	}
	deployments := typed[*appsv1.Deployment](objects, "Deployment")
	if r := deployments["fm-ingest"].Spec.Replicas; r == nil || *r != 5 {
		t.Errorf("ingest replicas %v with autoscaling off, want 5", r)
	}
	if img := deployments["fm-api"].Spec.Template.Spec.Containers[0].Image; !strings.Contains(img, "@sha256:abab") {
		t.Errorf("image %s, want the digest", img)
	}
	if len(objects["PrometheusRule"]) != 0 {
		t.Error("a PrometheusRule while switched off")
	}
}

// checkPod: pinned image, probes (for long-running roles), resources, a
// non-root read-only container, and the config file mounted.
func checkPod(t *testing.T, role string, spec corev1.PodSpec, probes bool) {
	t.Helper()
	if len(spec.Containers) != 1 {
		t.Fatalf("%s: %d containers", role, len(spec.Containers))
	}
	c := spec.Containers[0]
	repo, tag, hasTag := strings.Cut(c.Image, ":")
	if strings.Contains(c.Image, "@sha256:") {
		hasTag, tag = true, "digest"
	}
	if !hasTag || tag == "" || tag == "latest" || repo == "" {
		t.Errorf("%s: image %q is not pinned", role, c.Image)
	}
	if probes {
		for name, p := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
			if p == nil || p.HTTPGet == nil || p.HTTPGet.Port.String() != "metrics" {
				t.Errorf("%s: no %s probe on the metrics port", role, name)
			}
		}
		if c.ReadinessProbe != nil && c.ReadinessProbe.HTTPGet.Path != "/readyz" {
			t.Errorf("%s: readiness on %s, want /readyz (the dependency checks)", role, c.ReadinessProbe.HTTPGet.Path)
		}
		var metrics bool
		for _, p := range c.Ports {
			metrics = metrics || (p.Name == "metrics" && p.ContainerPort == 9464)
		}
		if !metrics {
			t.Errorf("%s: no metrics port 9464", role)
		}
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("%s: resources %v", role, c.Resources)
	}
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || spec.SecurityContext == nil || spec.SecurityContext.RunAsNonRoot == nil || !*spec.SecurityContext.RunAsNonRoot {
		t.Errorf("%s: not a non-root, read-only container", role)
	}
	var config bool
	for _, e := range c.Env {
		config = config || (e.Name == "FIELDMINT_CONFIG" && e.Value != "")
	}
	if !config {
		t.Errorf("%s: FIELDMINT_CONFIG not set", role)
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestChartOperatorValues: values-operator.yaml renders an independent
// settler's release: the shared topics under sharedTopicPrefix, its own
// stage topics, database and groups, a settler, and no ingest running.
func TestChartOperatorValues(t *testing.T) {
	raw, err := os.ReadFile(chartDir + "/values-operator.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var overrides map[string]any
	if err := yaml.Unmarshal(raw, &overrides); err != nil {
		t.Fatal(err)
	}
	objects := render(t, overrides)
	deployments := typed[*appsv1.Deployment](objects, "Deployment")
	if r := deployments["fm-ingest"].Spec.Replicas; r == nil || *r != 0 {
		t.Errorf("ingest replicas %v in an operator's release, want 0", r)
	}
	if _, ok := deployments["fm-settle"]; !ok {
		t.Error("no settler in an operator's release")
	}
	var config string
	for _, cm := range typed[*corev1.ConfigMap](objects, "ConfigMap") {
		config += cm.Data["config.yaml"]
	}
	for _, want := range []string{"sharedTopicPrefix: fieldmint.", "topicPrefix: fieldmint.op2.", "database: fieldmint_op2", "group: fieldmint-validators-op2", "group: fieldmint-aggregator-op2"} {
		if !strings.Contains(config, want) {
			t.Errorf("the operator's config.yaml lacks %q:\n%s", want, config)
		}
	}
}
