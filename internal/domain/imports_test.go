package domain_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestDomainImportsNoInfrastructure keeps the domain pure: every Go file
// under internal/domain may import the standard library and other domain
// packages, nothing else. A rule that needs storage or transport belongs in a
// command handler, which calls the domain, not the other way round.
func TestDomainImportsNoInfrastructure(t *testing.T) {
	const self = "github.com/bluepoint/bluepoint/internal/domain"
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, spec := range f.Imports {
			imp, _ := strconv.Unquote(spec.Path.Value)
			stdlib := !strings.Contains(strings.Split(imp, "/")[0], ".")
			if !stdlib && imp != self && !strings.HasPrefix(imp, self+"/") {
				t.Errorf("%s imports %s; the domain imports the standard library and domain packages only", path, imp)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
