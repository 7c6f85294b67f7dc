package sinkconfig

import (
	"regexp"

	"gopkg.in/yaml.v3"
)

// commandName is what a command name looks like (CreditBonus).
var commandName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.]{0,127}$`)

// automation decodes one automations entry and applies its defaults.
func (d *decoder) automation(n *yaml.Node, path string) Automation {
	a := Automation{Line: n.Line}
	m, ok := d.mapping(n, path, "name", "on", "condition", "action", "max_depth")
	if !ok {
		return a
	}
	a.Name = d.name(m, n, path)
	if v, ok := m["on"]; !ok {
		d.addf(n, join(path, "on"), "is required: the event types that trigger it")
	} else {
		a.On = d.strList(v, join(path, "on"), d.eventType)
		if dv := deref(v); dv.Kind == yaml.SequenceNode && len(dv.Content) == 0 {
			d.addf(v, join(path, "on"), "is empty; list at least one event type")
		}
	}
	if v, ok := m["condition"]; ok {
		if s, ok := d.str(v, join(path, "condition")); ok {
			a.Condition = s
			if err := compile(s, true); err != nil {
				d.addf(v, join(path, "condition"), "%v", err)
			}
		}
	}
	if v, ok := m["action"]; !ok {
		d.addf(n, join(path, "action"), "is required: webhook or command")
	} else {
		a.Action = d.action(v, join(path, "action"))
	}
	a.MaxDepth = DefaultMaxDepth
	if v, ok := m["max_depth"]; ok {
		a.MaxDepth, _ = d.intIn(v, join(path, "max_depth"), 1, MaxMaxDepth)
	}
	return a
}

// action decodes an action mapping, which must hold exactly one of webhook and command.
func (d *decoder) action(n *yaml.Node, path string) Action {
	var act Action
	m, ok := d.mapping(n, path, "webhook", "command")
	if !ok {
		return act
	}
	wh, hasWebhook := m["webhook"]
	cmd, hasCommand := m["command"]
	switch {
	case hasWebhook && hasCommand:
		d.addf(n, path, "has both webhook and command; an action is exactly one of them")
	case !hasWebhook && !hasCommand:
		d.addf(n, path, "needs exactly one of webhook, command")
	}
	if hasWebhook {
		act.Webhook = d.webhookAction(wh, join(path, "webhook"))
	}
	if hasCommand {
		act.Command = d.commandAction(cmd, join(path, "command"))
	}
	return act
}

// webhookAction decodes action.webhook.
func (d *decoder) webhookAction(n *yaml.Node, path string) *WebhookAction {
	w := &WebhookAction{Timeout: DefaultTimeout}
	m, ok := d.mapping(n, path, "url", "secret_env", "timeout")
	if !ok {
		return w
	}
	if v, ok := m["url"]; ok {
		w.URL = d.webhookURL(v, join(path, "url"))
	} else {
		d.addf(n, join(path, "url"), "is required")
	}
	w.SecretEnv = d.secretEnv(m, n, path)
	if v, ok := m["timeout"]; ok {
		w.Timeout, _ = d.durationIn(v, join(path, "timeout"), MaxTimeout)
	}
	return w
}

// commandAction decodes action.command: a name and scalar args, each a literal or one
// {{ }} expression that must compile.
func (d *decoder) commandAction(n *yaml.Node, path string) *CommandAction {
	c := &CommandAction{}
	m, ok := d.mapping(n, path, "name", "args")
	if !ok {
		return c
	}
	if v, ok := m["name"]; !ok {
		d.addf(n, join(path, "name"), "is required: the command to run, such as CreditBonus")
	} else if s, ok := d.str(v, join(path, "name")); ok {
		c.Name = s
		if !commandName.MatchString(s) {
			d.addf(v, join(path, "name"), "%q is not a command name (such as CreditBonus)", s)
		}
	}
	v, ok := m["args"]
	if !ok {
		return c
	}
	args := deref(v)
	if args.Kind != yaml.MappingNode {
		d.addf(v, join(path, "args"), "expected a mapping of argument names to values, got %s", describe(v))
		return c
	}
	c.Args = map[string]Arg{}
	for i := 0; i+1 < len(args.Content); i += 2 {
		k, val := args.Content[i], args.Content[i+1]
		p := join(join(path, "args"), k.Value)
		if _, dup := c.Args[k.Value]; dup {
			d.addf(k, p, "argument given twice")
			continue
		}
		if arg, ok := d.arg(val, p); ok {
			c.Args[k.Value] = arg
		}
	}
	return c
}

// arg decodes one command argument.
func (d *decoder) arg(n *yaml.Node, path string) (Arg, bool) {
	v := deref(n)
	if v.Kind != yaml.ScalarNode {
		d.addf(n, path, "expected a single value or a {{ }} expression, got %s", describe(n))
		return Arg{}, false
	}
	if v.ShortTag() == "!!str" {
		expr, isExpr, err := template(v.Value)
		if err == nil && isExpr {
			err = compile(expr, false)
		}
		if err != nil {
			d.addf(n, path, "%v", err)
			return Arg{}, false
		}
		if isExpr {
			return Arg{Expr: expr}, true
		}
	}
	var val any
	if err := v.Decode(&val); err != nil {
		d.addf(n, path, "%v", err)
		return Arg{}, false
	}
	if i, ok := val.(int); ok {
		val = int64(i)
	}
	return Arg{Value: val}, true
}
