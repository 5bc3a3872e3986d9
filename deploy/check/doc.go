// Package check validates deploy/ offline, in a module of its own so that
// Helm, the Kubernetes API types, compose-go and Prometheus stay out of
// fieldmint's own dependencies: the Helm chart rendered with Helm's SDK and
// every object decoded strictly into its Kubernetes type, the compose file
// loaded with compose-go, and the alert rules unit-tested with promtool.
// `make test` runs it (make deploy-check).
package check
