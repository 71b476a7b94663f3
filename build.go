package edgeoutbox

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// built is the result of casting inputs for one event.
type built struct {
	name    string
	typ     string // event type, e.g. "domain"
	version int
	entity  Entity
	payload []byte // JSON object of the payload fields, keys in declaration order
}

// buildPlan is a SchemaVersion compiled for build: inputs by index and pre-encoded keys.
type buildPlan struct {
	inputs                   []planInput
	inputList                string // "cow, farmer", for messages
	class, id, entityVersion *planField
	payload                  []planField
	size                     int // initial payload buffer size
}

type planInput struct {
	name     string
	required bool
}

type planField struct {
	name     string
	input    int
	attr     string
	norm     string
	typ      FieldType
	required bool
	key      string // `"name":`
}

func compilePlan(v *SchemaVersion) *buildPlan {
	p := &buildPlan{inputs: make([]planInput, len(v.Inputs))}
	index := make(map[string]int, len(v.Inputs))
	names := make([]string, len(v.Inputs))
	for i, in := range v.Inputs {
		p.inputs[i] = planInput{name: in.Name, required: in.Required}
		index[in.Name] = i
		names[i] = in.Name
	}
	p.inputList = strings.Join(names, ", ")
	field := func(f *SchemaField) planField {
		return planField{
			name:     f.Name,
			input:    index[f.From],
			attr:     f.Attribute,
			norm:     normalizeName(f.Attribute),
			typ:      f.Type,
			required: f.Required,
			key:      string(appendJSONString(nil, f.Name)) + ":",
		}
	}
	if e := v.Entity; e != nil {
		for _, x := range []struct {
			dst **planField
			src *SchemaField
		}{{&p.class, e.Class}, {&p.id, e.ID}, {&p.entityVersion, e.Version}} {
			if x.src != nil {
				f := field(x.src)
				*x.dst = &f
			}
		}
	}
	p.size = 2
	p.payload = make([]planField, len(v.Payload))
	for i := range v.Payload {
		p.payload[i] = field(&v.Payload[i])
		p.size += len(p.payload[i].key) + 16
	}
	return p
}

// maxStackInputs is how many inputs build resolves without allocating.
const maxStackInputs = 4

// build casts inputs according to this version; errors are *InputError (missing
// required input: Field = the input name, Problem "input is required").
func (v *SchemaVersion) build(event string, inputs Inputs) (built, error) {
	p := v.plan
	if p == nil {
		p = compilePlan(v)
	}
	for name := range inputs {
		if !p.hasInput(name) {
			return built{}, &InputError{Event: event, Field: name, Problem: fmt.Sprintf("is not an input of this event (its inputs: %s)", p.inputList)}
		}
	}
	var stack [maxStackInputs]source
	srcs := stack[:0]
	if len(p.inputs) > maxStackInputs {
		srcs = make([]source, 0, len(p.inputs))
	}
	for _, in := range p.inputs {
		s := resolveInput(inputs[in.name])
		if s.kind == srcMissing && in.required {
			return built{}, &InputError{Event: event, Field: in.name, Problem: "input is required"}
		}
		srcs = append(srcs, s)
	}
	b := built{name: event, typ: v.Type, version: v.Version}

	if f := p.class; f != nil {
		val, addr, err := p.read(event, srcs, f)
		if err != nil {
			return built{}, err
		}
		s, err := castString(val)
		if err == nil && s == "" {
			err = castError("is empty (an entity class must not be)")
		}
		if err == nil {
			err = checkHeaderValue(s)
		}
		if err != nil {
			return built{}, fieldError(event, f, val, addr, err)
		}
		b.entity.Class = s
	}
	if f := p.id; f != nil {
		val, addr, err := p.read(event, srcs, f)
		if err != nil {
			return built{}, err
		}
		if f.typ == Int {
			n, err := castInt(val)
			if err != nil {
				return built{}, fieldError(event, f, val, addr, err)
			}
			b.entity.ID = strconv.FormatInt(n, 10)
		} else {
			s, err := castString(val)
			if err == nil && s == "" {
				err = castError("is empty (an entity id must not be)")
			}
			if err == nil {
				err = checkHeaderValue(s)
			}
			if err != nil {
				return built{}, fieldError(event, f, val, addr, err)
			}
			b.entity.ID = s
		}
	}
	if f := p.entityVersion; f != nil {
		val, addr, err := p.read(event, srcs, f)
		if err != nil {
			return built{}, err
		}
		n, err := castInt(val)
		if err != nil {
			return built{}, fieldError(event, f, val, addr, err)
		}
		b.entity.Version = &n
	}

	buf := make([]byte, 0, p.size)
	buf = append(buf, '{')
	for i := range p.payload {
		f := &p.payload[i]
		val, addr, err := p.read(event, srcs, f)
		if err != nil {
			return built{}, err
		}
		mark := len(buf)
		if mark > 1 {
			buf = append(buf, ',')
		}
		buf = append(buf, f.key...)
		buf, err = appendValue(buf, f.typ, val)
		if err != nil {
			buf = buf[:mark]
			if err == errMissing && !f.required {
				continue
			}
			return built{}, fieldError(event, f, val, addr, err)
		}
	}
	b.payload = append(buf, '}')
	return b, nil
}

func (p *buildPlan) hasInput(name string) bool {
	for i := range p.inputs {
		if p.inputs[i].name == name {
			return true
		}
	}
	return false
}

// read returns the raw value of field f; a missing value is nil.
func (p *buildPlan) read(event string, srcs []source, f *planField) (any, bool, error) {
	s := &srcs[f.input]
	if s.kind == srcMissing {
		return nil, false, nil
	}
	val, state := s.get(f.attr, f.norm)
	if state == noSuchKey {
		return nil, false, &InputError{
			Event:   event,
			Field:   f.name,
			GoType:  s.rv.Type().String(),
			Problem: fmt.Sprintf("(input %q) has no attribute %q: add a field named so or tagged json:%q, or implement edgeoutbox.Attributes", p.inputs[f.input].name, f.attr, f.attr),
		}
	}
	return val, state == foundAddr, nil
}

// fieldError reports err for field f; addr says val points to the struct field that
// holds the value (so the value's Go type is val's element type).
func fieldError(event string, f *planField, val any, addr bool, err error) error {
	if errors.Is(err, errMissing) {
		return &InputError{Event: event, Field: f.name, Problem: "is required"}
	}
	goType := fmt.Sprintf("%T", val)
	if addr {
		goType = reflect.TypeOf(val).Elem().String()
	}
	return &InputError{Event: event, Field: f.name, GoType: goType, Problem: err.Error()}
}
