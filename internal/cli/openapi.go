package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"github.com/bluepoint/bluepoint/internal/api/rest"
)

// openapiCmd prints the REST API's OpenAPI document, the one a running
// server serves at /openapi.json, without starting anything: for linters,
// client generators and docs.
type openapiCmd struct {
	Out string `name:"out" placeholder:"FILE" help:"Write the document to FILE instead of stdout."`
}

func (c *openapiCmd) Run(p *Program) error {
	doc, err := rest.Document()
	if err != nil {
		return fmt.Errorf("render the OpenAPI document: %w", err)
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, doc, "", "  "); err != nil {
		return fmt.Errorf("render the OpenAPI document: %w", err)
	}
	pretty.WriteByte('\n')
	if c.Out == "" {
		_, err = p.Stdout.Write(pretty.Bytes())
		return err
	}
	if err := os.WriteFile(c.Out, pretty.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write the OpenAPI document: %w", err)
	}
	return nil
}
