// Command rowserrcheck runs the rowserr analyzer: `go run ./tools/rowserr/cmd/rowserrcheck ./...`
// (make lint does).
package main

import (
	"golang.org/x/tools/go/analysis/singlechecker"

	"github.com/fieldmint/fieldmint/tools/rowserr"
)

func main() { singlechecker.Main(rowserr.Analyzer) }
