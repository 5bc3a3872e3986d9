// Command genproto regenerates schemas/fieldmintpb from schemas/proto.
//
// It compiles the .proto files with protocompile and runs protoc-gen-go's
// generator in process, so regeneration needs no protoc binary and gives the
// same bytes on every machine. The gRPC service's Connect code comes from
// protoc-gen-connect-go, a tool of this module (go.mod's tool block) that is
// fed the same request on its standard input, as protoc would. Run from
// schemas/: go run ./internal/genproto
package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/bufbuild/protocompile"
	"google.golang.org/protobuf/cmd/protoc-gen-go/internal_gengo"
	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/types/pluginpb"
)

// sources are the .proto files under protoDir to compile.
var sources = []string{"fieldmint/v1/fieldmint.proto", "fieldmint/v1/ingest.proto", "fieldmint/v1/chirpstack.proto"}

const protoDir = "proto"

// generate returns generated file path (under fieldmintpb/) -> content.
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
		if !seen[f.Path()] {
			seen[f.Path()] = true
			req.ProtoFile = append(req.ProtoFile, protodesc.ToFileDescriptorProto(f))
		}
	}
	out, err := generateGo(req)
	if err != nil {
		return nil, err
	}
	connect, err := generateConnect(root, req)
	if err != nil {
		return nil, err
	}
	for name, content := range connect {
		out[name] = content
	}
	return out, nil
}

// generateGo runs protoc-gen-go's generator in process.
func generateGo(req *pluginpb.CodeGeneratorRequest) (map[string][]byte, error) {
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

// generateConnect runs protoc-gen-connect-go (go tool, from root, the
// schemas directory) on req; its files go to fieldmintpb/fieldmintpbconnect/.
func generateConnect(root string, req *pluginpb.CodeGeneratorRequest) (map[string][]byte, error) {
	in, err := proto.Marshal(req)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("go", "tool", "protoc-gen-connect-go")
	cmd.Dir = root
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("protoc-gen-connect-go: %v: %s", err, stderr.String())
	}
	var resp pluginpb.CodeGeneratorResponse
	if err := proto.Unmarshal(raw, &resp); err != nil {
		return nil, fmt.Errorf("protoc-gen-connect-go: %w", err)
	}
	if resp.Error != nil {
		return nil, fmt.Errorf("protoc-gen-connect-go: %s", resp.GetError())
	}
	out := map[string][]byte{}
	for _, f := range resp.File {
		name := f.GetName()
		i := strings.Index(name, "/fieldmintpbconnect/")
		if i < 0 {
			return nil, fmt.Errorf("protoc-gen-connect-go: unexpected file %s", name)
		}
		out[name[i+1:]] = []byte(f.GetContent())
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
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "genproto:", err)
			os.Exit(1)
		}
		if err := os.WriteFile(path, content, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "genproto:", err)
			os.Exit(1)
		}
		fmt.Println("wrote", path)
	}
}
