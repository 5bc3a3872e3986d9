// Command genproto regenerates schemas/fieldmintpb from schemas/proto.
//
// It compiles the .proto files with protocompile and runs protoc-gen-go's
// generator in process, so regeneration needs no protoc binary and gives the
// same bytes on every machine. Run from schemas/: go run ./internal/genproto
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/bufbuild/protocompile"
	"google.golang.org/protobuf/cmd/protoc-gen-go/internal_gengo"
	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/types/pluginpb"
)

// sources are the .proto files under protoDir to compile.
var sources = []string{"fieldmint/v1/fieldmint.proto"}

const protoDir = "proto"

// generate returns generated file name (in fieldmintpb/) -> content.
func generate(root string) (map[string][]byte, error) {
	c := protocompile.Compiler{
		Resolver:       protocompile.WithStandardImports(&protocompile.SourceResolver{ImportPaths: []string{filepath.Join(root, protoDir)}}),
		SourceInfoMode: protocompile.SourceInfoStandard,
	}
	files, err := c.Compile(context.Background(), sources...)
	if err != nil {
		return nil, err
	}
	req := &pluginpb.CodeGeneratorRequest{FileToGenerate: sources, Parameter: new(string)}
	seen := map[string]bool{}
	for _, f := range files {
		imports := f.Imports()
		for i := 0; i < imports.Len(); i++ {
			dep := imports.Get(i).FileDescriptor
			if !seen[dep.Path()] {
				seen[dep.Path()] = true
				req.ProtoFile = append(req.ProtoFile, protodesc.ToFileDescriptorProto(dep))
			}
		}
		req.ProtoFile = append(req.ProtoFile, protodesc.ToFileDescriptorProto(f))
	}
	plugin, err := protogen.Options{}.New(req)
	if err != nil {
		return nil, err
	}
	plugin.SupportedFeatures = internal_gengo.SupportedFeatures
	for _, f := range plugin.Files {
		if f.Generate {
			internal_gengo.GenerateFile(plugin, f)
		}
	}
	resp := plugin.Response()
	if resp.Error != nil {
		return nil, fmt.Errorf("protoc-gen-go: %s", resp.GetError())
	}
	out := map[string][]byte{}
	for _, f := range resp.File {
		// Names come as import paths; every file goes to fieldmintpb/.
		out[filepath.Base(f.GetName())] = []byte(f.GetContent())
	}
	return out, nil
}

func main() {
	files, err := generate(".")
	if err != nil {
		fmt.Fprintln(os.Stderr, "genproto:", err)
		os.Exit(1)
	}
	for name, content := range files {
		path := filepath.Join("fieldmintpb", name)
		if err := os.WriteFile(path, content, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "genproto:", err)
			os.Exit(1)
		}
		fmt.Println("wrote", path)
	}
}
