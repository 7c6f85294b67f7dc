package sinkconfig

import (
	"strings"
	"testing"
)

// Each case holds one mistake; want is the start of the only problem's message
// (file:line:column: path: ...) and then a part of what it says.
func TestProblems(t *testing.T) {
	const archive = "version: 1\nsinks:\n  - name: a\n    type: archive\n    url: file:///srv/archive\n"
	const hook = "version: 1\nsinks:\n  - name: h\n    type: webhook\n    url: https://h.example/x\n    secret_env: H\n"
	const auto = "version: 1\nautomations:\n  - name: auto\n    on: [DonationMade]\n"
	cases := []struct {
		name, yaml, want, says string
	}{
		{"version missing", "sinks: []\n", "b.yaml:1:1: version: ", "is required"},
		{"version 2", "version: 2\n", "b.yaml:1:10: version: ", "2 is not supported"},
		{"version string", "version: \"1\"\n", "b.yaml:1:10: version: ", "expected an integer, got a string"},
		{"top level not a mapping", "- 1\n", "b.yaml:1:1: ", "expected a mapping"},
		{"unknown top key", "version: 1\nsink: []\n", "b.yaml:2:1: sink: ", "unknown key"},
		{"key twice", "version: 1\nversion: 1\n", "b.yaml:2:1: version: ", "key given twice"},
		{"syntax", "version: 1\nsinks: [\n", "b.yaml:2: ", "invalid YAML: did not find expected node content"},
		{"two documents", "version: 1\n---\nversion: 1\n", "b.yaml:2:1: ", "only one YAML document"},
		{"sinks not a list", "version: 1\nsinks: {}\n", "b.yaml:2:8: sinks: ", "expected a list, got a mapping"},
		{"unknown sink key", archive + "    fromat: ndjson\n", "b.yaml:6:5: sinks[0].fromat: ", "unknown key (known keys: name, type"},
		{"wrong type of type", "version: 1\nsinks:\n  - name: a\n    type: [archive]\n    url: file:///x\n", "b.yaml:4:11: sinks[0].type: ", "expected a string, got a list"},
		{"unknown sink type", "version: 1\nsinks:\n  - name: a\n    type: kafka\n", "b.yaml:4:11: sinks[0].type: ", `"kafka" is not one of archive, webhook`},
		{"type missing", "version: 1\nsinks:\n  - name: a\n", "b.yaml:3:5: sinks[0].type: ", "is required"},
		{"name missing", "version: 1\nsinks:\n  - type: archive\n    url: file:///x\n", "b.yaml:3:5: sinks[0].name: ", "is required"},
		{"bad name", "version: 1\nsinks:\n  - name: My Sink\n    type: archive\n    url: file:///x\n", "b.yaml:3:11: sinks[0].name: ", "must be 1 to 64 of a-z"},
		{"name not a string", "version: 1\nsinks:\n  - name: 7\n    type: archive\n    url: file:///x\n", "b.yaml:3:11: sinks[0].name: ", "expected a string, got an integer"},
		{"duplicate sink name", archive + "  - name: a\n    type: archive\n    url: file:///y\n", "b.yaml:6:11: sinks[1].name: ", `"a" is already used by sinks[0] (line 3)`},
		{"duplicate across sinks and automations", archive + "automations:\n  - name: a\n    on: [X]\n    action: {command: {name: C}}\n", "b.yaml:7:11: automations[0].name: ", `"a" is already used by sinks[0]`},
		{"unknown stream", archive + "    streams: [users, orders]\n", "b.yaml:6:22: sinks[0].streams[1]: ", `"orders" is not one of users, transactions, catalog, activity`},
		{"stream twice", archive + "    streams: [users, users]\n", "b.yaml:6:22: sinks[0].streams[1]: ", "listed twice"},
		{"empty streams", archive + "    streams: []\n", "b.yaml:6:14: sinks[0].streams: ", "is empty"},
		{"bad event type", archive + "    types: [donation made]\n", "b.yaml:6:13: sinks[0].types[0]: ", "is not an event type name"},
		{"archive url missing", "version: 1\nsinks:\n  - name: a\n    type: archive\n", "b.yaml:3:5: sinks[0].url: ", "is required for archive sinks"},
		{"archive url scheme", "version: 1\nsinks:\n  - name: a\n    type: archive\n    url: gs://b\n", "b.yaml:5:10: sinks[0].url: ", "must be a file:// or s3:// URL"},
		{"s3 without bucket", "version: 1\nsinks:\n  - name: a\n    type: archive\n    url: s3:///path\n", "b.yaml:5:10: sinks[0].url: ", "has no bucket"},
		{"s3 with path", "version: 1\nsinks:\n  - name: a\n    type: archive\n    url: s3://b/arch\n", "b.yaml:5:10: sinks[0].url: ", "?prefix=arch/"},
		{"file with host", "version: 1\nsinks:\n  - name: a\n    type: archive\n    url: file://data/archive\n", "b.yaml:5:10: sinks[0].url: ", `names host "data"`},
		{"unparsable url", "version: 1\nsinks:\n  - name: a\n    type: archive\n    url: \"s3://b%zz\"\n", "b.yaml:5:10: sinks[0].url: ", "invalid URL"},
		{"bad format", archive + "    format: csv\n", "b.yaml:6:13: sinks[0].format: ", `"csv" is not one of ndjson, parquet`},
		{"format on webhook", hook + "    format: ndjson\n", "b.yaml:7:13: sinks[0].format: ", "applies only to archive sinks, this one is webhook"},
		{"secret_env on archive", archive + "    secret_env: X\n", "b.yaml:6:17: sinks[0].secret_env: ", "applies only to webhook sinks"},
		{"batch not a mapping", archive + "    batch: 10\n", "b.yaml:6:12: sinks[0].batch: ", "expected a mapping"},
		{"unknown batch key", archive + "    batch: {max_event: 10}\n", "b.yaml:6:13: sinks[0].batch.max_event: ", "unknown key"},
		{"bad bytes", archive + "    batch: {max_bytes: 8MB}\n", "b.yaml:6:24: sinks[0].batch.max_bytes: ", `"8MB" is not a size`},
		{"zero bytes", archive + "    batch: {max_bytes: 0}\n", "b.yaml:6:24: sinks[0].batch.max_bytes: ", "out of range"},
		{"huge bytes", archive + "    batch: {max_bytes: 9999999999GiB}\n", "b.yaml:6:24: sinks[0].batch.max_bytes: ", "out of range"},
		{"bad duration", archive + "    batch: {max_age: 1 minute}\n", "b.yaml:6:22: sinks[0].batch.max_age: ", `"1 minute" is not a duration`},
		{"duration as number", archive + "    batch: {max_age: 60}\n", "b.yaml:6:22: sinks[0].batch.max_age: ", "expected a duration"},
		{"negative duration", archive + "    batch: {max_age: -1s}\n", "b.yaml:6:22: sinks[0].batch.max_age: ", "must be positive"},
		{"max_events float", archive + "    batch: {max_events: 1e3}\n", "b.yaml:6:25: sinks[0].batch.max_events: ", "expected an integer, got a number"},
		{"webhook url scheme", "version: 1\nsinks:\n  - name: h\n    type: webhook\n    url: ftp://h.example\n    secret_env: H\n", "b.yaml:5:10: sinks[0].url: ", "must be an http:// or https:// URL"},
		{"webhook url credentials", "version: 1\nsinks:\n  - name: h\n    type: webhook\n    url: https://u:p@h.example\n    secret_env: H\n", "b.yaml:5:10: sinks[0].url: ", "carries credentials"},
		{"secret_env missing", "version: 1\nsinks:\n  - name: h\n    type: webhook\n    url: https://h.example\n", "b.yaml:3:5: sinks[0].secret_env: ", "is required"},
		{"secret in secret_env", "version: 1\nsinks:\n  - name: h\n    type: webhook\n    url: https://h.example\n    secret_env: hunter2!\n", "b.yaml:6:17: sinks[0].secret_env: ", "is not an environment variable name"},
		{"timeout too long", hook + "    timeout: 2m\n", "b.yaml:7:14: sinks[0].timeout: ", "more than the maximum 1m0s"},
		{"max_attempts range", hook + "    max_attempts: 21\n", "b.yaml:7:19: sinks[0].max_attempts: ", "out of range 1..20"},
		{"on missing", "version: 1\nautomations:\n  - name: x\n    action: {command: {name: C}}\n", "b.yaml:3:5: automations[0].on: ", "is required"},
		{"on empty", "version: 1\nautomations:\n  - name: x\n    on: []\n    action: {command: {name: C}}\n", "b.yaml:4:9: automations[0].on: ", "is empty"},
		{"action missing", auto, "b.yaml:3:5: automations[0].action: ", "is required"},
		{"neither action", auto + "    action: {}\n", "b.yaml:5:13: automations[0].action: ", "needs exactly one of webhook, command"},
		{"both actions", auto + "    action:\n      command: {name: C}\n      webhook: {url: 'https://x.example', secret_env: X}\n", "b.yaml:6:7: automations[0].action: ", "has both webhook and command"},
		{"action webhook without secret_env", auto + "    action:\n      webhook: {url: 'https://x.example'}\n", "b.yaml:6:16: automations[0].action.webhook.secret_env: ", "is required"},
		{"command without name", auto + "    action:\n      command: {args: {a: 1}}\n", "b.yaml:6:16: automations[0].action.command.name: ", "is required"},
		{"bad CEL condition", auto + "    condition: 'event.data.points >= '\n    action: {command: {name: C}}\n", "b.yaml:5:16: automations[0].condition: ", "invalid CEL: 1:"},
		{"undeclared CEL variable", auto + "    condition: 'evnt.type == \"X\"'\n    action: {command: {name: C}}\n", "b.yaml:5:16: automations[0].condition: ", "undeclared reference to 'evnt'"},
		{"condition not bool", auto + "    condition: 'event.data.points + 1'\n    action: {command: {name: C}}\n", "b.yaml:5:16: automations[0].condition: ", "must be a bool expression"},
		{"bad {{ }} expression", auto + "    action:\n      command:\n        name: C\n        args:\n          to: '{{ event.data. }}'\n", "b.yaml:9:15: automations[0].action.command.args.to: ", "invalid CEL"},
		{"text around {{ }}", auto + "    action:\n      command:\n        name: C\n        args:\n          note: 'hi {{ event.id }}'\n", "b.yaml:9:17: automations[0].action.command.args.note: ", "must be the whole value"},
		{"arg is a list", auto + "    action:\n      command:\n        name: C\n        args:\n          ids: [1, 2]\n", "b.yaml:9:16: automations[0].action.command.args.ids: ", "expected a single value"},
		{"max_depth range", auto + "    action: {command: {name: C}}\n    max_depth: 11\n", "b.yaml:6:16: automations[0].max_depth: ", "out of range 1..10"},
		{"unknown automation key", auto + "    action: {command: {name: C}}\n    when: x\n", "b.yaml:6:5: automations[0].when: ", "unknown key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := Parse("b.yaml", []byte(c.yaml))
			if err == nil {
				t.Fatalf("Parse succeeded with %+v; want %s%s", f, c.want, c.says)
			}
			if f != nil {
				t.Errorf("Parse returned a File with its error")
			}
			ps := problems(t, err)
			if len(ps) != 1 {
				t.Fatalf("%d problems, want 1:\n%v", len(ps), err)
			}
			msg := ps[0].Error()
			if !strings.HasPrefix(msg, c.want) || !strings.Contains(msg, c.says) {
				t.Errorf("problem\n  %s\nwant it to start with %q and contain %q", msg, c.want, c.says)
			}
		})
	}
}

func TestEveryProblemIsReported(t *testing.T) {
	data := `version: 2
sinks:
  - name: archive
    type: archive
    url: file:///srv/archive
    format: csv
    batch: {max_bytes: lots}
  - name: archive
    type: webhook
    url: https://h.example
automations:
  - name: bonus
    on: [DonationMade]
    condition: 'event.nope('
    action: {}
    colour: blue
`
	_, err := Parse("bluepoint.yaml", []byte(data))
	want := []string{
		`bluepoint.yaml:1:10: version: 2 is not supported; this build reads version 1`,
		`bluepoint.yaml:6:13: sinks[0].format: "csv" is not one of ndjson, parquet`,
		`bluepoint.yaml:7:24: sinks[0].batch.max_bytes: "lots" is not a size`,
		`bluepoint.yaml:8:5: sinks[1].secret_env: is required`,
		`bluepoint.yaml:8:11: sinks[1].name: "archive" is already used by sinks[0] (line 3)`,
		`bluepoint.yaml:14:16: automations[0].condition: invalid CEL`,
		`bluepoint.yaml:15:13: automations[0].action: needs exactly one of webhook, command`,
		`bluepoint.yaml:16:5: automations[0].colour: unknown key`,
	}
	ps := problems(t, err)
	if len(ps) != len(want) {
		t.Fatalf("%d problems, want %d:\n%v", len(ps), len(want), err)
	}
	for i, p := range ps {
		if !strings.HasPrefix(p.Error(), want[i]) {
			t.Errorf("problem %d\n  %s\nwant it to start with\n  %s", i, p, want[i])
		}
	}
}
