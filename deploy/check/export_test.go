package check

import (
	"slices"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// TestChartExport: export.enabled runs `fieldmint export --final` on a
// schedule into the claim; with export.upload, the export is an init
// container and the upload runs after it with the volume read-only; off by
// default.
func TestChartExport(t *testing.T) {
	if n := len(render(t, nil)["CronJob"]); n != 0 {
		t.Errorf("%d CronJobs by default, want none", n)
	}
	for _, upload := range []bool{false, true} {
		export := map[string]any{"enabled": true, "schedule": "*/5 * * * *", "claimName": "exports"}
		if upload {
			export["upload"] = map[string]any{"image": "amazon/aws-cli:2.17.0", "args": []any{"s3", "sync", "/export", "s3://b/epochs/"}}
		}
		jobs := typed[*batchv1.CronJob](render(t, map[string]any{"export": export}), "CronJob")
		job, ok := jobs["fm-export"]
		if !ok {
			t.Fatalf("upload %v: no CronJob fm-export: %v", upload, jobs)
		}
		if job.Spec.Schedule != "*/5 * * * *" || job.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
			t.Errorf("schedule %q, concurrency %q", job.Spec.Schedule, job.Spec.ConcurrencyPolicy)
		}
		spec := job.Spec.JobTemplate.Spec.Template.Spec
		exporter := spec.Containers
		if upload {
			exporter = spec.InitContainers
			if len(spec.Containers) != 1 || spec.Containers[0].Image != "amazon/aws-cli:2.17.0" ||
				len(spec.Containers[0].VolumeMounts) != 1 || spec.Containers[0].VolumeMounts[0].MountPath != "/export" || !spec.Containers[0].VolumeMounts[0].ReadOnly {
				t.Errorf("the upload container: %+v", spec.Containers)
			}
		} else {
			checkPod(t, "export", spec, false)
		}
		if len(exporter) != 1 || strings.Join(exporter[0].Args, " ") != "export --final --out /export/epoch-{epoch}" {
			t.Fatalf("upload %v: the export container: %+v", upload, exporter)
		}
		mounted := slices.ContainsFunc(exporter[0].VolumeMounts, func(m corev1.VolumeMount) bool { return m.Name == "export" && m.MountPath == "/export" })
		claimed := slices.ContainsFunc(spec.Volumes, func(v corev1.Volume) bool {
			return v.Name == "export" && v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == "exports"
		})
		if !mounted || !claimed {
			t.Errorf("upload %v: the claim is not mounted at /export: %+v %+v", upload, exporter[0].VolumeMounts, spec.Volumes)
		}
	}
}
