package edgeoutbox

import (
	"reflect"
	"strings"
	"sync"
	"unicode"
)

// Inputs maps an event's input names to their values. A value may be:
//
//   - a type implementing Attributes (no reflection: the fastest form);
//   - a map[string]any, or any other map with string keys;
//   - a struct or a pointer to one: an attribute matches the field's json tag name,
//     else the Go field name compared ignoring case and underscores ("farmer_name"
//     matches FarmerName). Promoted fields of embedded structs count; unexported fields
//     and fields tagged json:"-" do not.
//
// A nil value or nil pointer counts as a missing input.
type Inputs map[string]any

// Attributes is implemented by input values that look up their own attributes, which
// avoids reflection on the emit path. Attribute returns ok == false when the value has
// no such attribute; that and a nil value count as a missing field.
type Attributes interface {
	Attribute(name string) (value any, ok bool)
}

type sourceKind uint8

const (
	srcMissing sourceKind = iota
	srcAttributes
	srcMap
	srcStringMap
	srcReflectMap
	srcStruct
	srcTooDeep // behind more than maxIndirections pointers: a field's value is the input itself
)

// source is one resolved input value.
type source struct {
	kind  sourceKind
	attrs Attributes
	m     map[string]any
	sm    map[string]string
	rv    reflect.Value
	info  *structInfo
	orig  any // srcTooDeep: the input value
}

// resolveInput classifies an input value once per build.
func resolveInput(v any) source {
	switch x := v.(type) {
	case nil:
		return source{}
	case map[string]any:
		if x == nil {
			return source{}
		}
		return source{kind: srcMap, m: x}
	case map[string]string:
		if x == nil {
			return source{}
		}
		return source{kind: srcStringMap, sm: x}
	}
	rv := reflect.ValueOf(v)
	if a, ok := v.(Attributes); ok {
		if isNilable(rv.Kind()) && rv.IsNil() {
			return source{}
		}
		return source{kind: srcAttributes, attrs: a}
	}
	rv, err := indirect(rv)
	switch err {
	case errMissing:
		return source{}
	case errTooDeep:
		// Every field read from it is refused by its cast, which finds the same chain.
		return source{kind: srcTooDeep, orig: v}
	}
	switch rv.Kind() {
	case reflect.Map:
		if rv.IsNil() {
			return source{}
		}
		if rv.Type().Key().Kind() == reflect.String {
			return source{kind: srcReflectMap, rv: rv}
		}
	case reflect.Struct:
		if !rv.CanAddr() {
			// A struct passed by value: copy it once so that fields can be read through
			// pointers, which (unlike Value.Interface on a field) does not allocate.
			c := reflect.New(rv.Type()).Elem()
			c.Set(rv)
			rv = c
		}
		return source{kind: srcStruct, rv: rv, info: structInfoOf(rv.Type())}
	}
	// Anything else has no attributes: every field read from it is reported with
	// the value's Go type.
	return source{kind: srcStruct, rv: rv, info: &structInfo{}}
}

func isNilable(k reflect.Kind) bool {
	switch k {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface, reflect.Func, reflect.Chan:
		return true
	}
	return false
}

// lookupState says what get found.
type lookupState uint8

const (
	found     lookupState = iota
	foundAddr             // found; the value is a pointer to the struct field
	absent                // no value: a missing field
	noSuchKey             // a struct without the attribute: a programming mistake
)

// get returns the attribute attr (norm is its normalized form, see normalizeName).
func (s *source) get(attr, norm string) (any, lookupState) {
	switch s.kind {
	case srcAttributes:
		v, ok := s.attrs.Attribute(attr)
		if !ok {
			return nil, absent
		}
		return v, found
	case srcMap:
		v, ok := s.m[attr]
		if !ok {
			return nil, absent
		}
		return v, found
	case srcStringMap:
		v, ok := s.sm[attr]
		if !ok {
			return nil, absent
		}
		return v, found
	case srcReflectMap:
		key := reflect.ValueOf(attr)
		if kt := s.rv.Type().Key(); kt != key.Type() {
			key = key.Convert(kt)
		}
		v := s.rv.MapIndex(key)
		if !v.IsValid() {
			return nil, absent
		}
		return v.Interface(), found
	case srcTooDeep:
		return s.orig, found
	case srcStruct:
		idx := s.info.index(attr, norm)
		if idx == nil {
			return nil, noSuchKey
		}
		fv, err := s.rv.FieldByIndexErr(idx)
		if err != nil { // through a nil embedded pointer
			return nil, absent
		}
		return fv.Addr().Interface(), foundAddr
	}
	return nil, absent
}

// structInfo maps attribute names to field index paths for one struct type.
type structInfo struct {
	byTag  map[string][]int // json tag name
	byName map[string][]int // normalized Go field name
}

func (si *structInfo) index(attr, norm string) []int {
	if idx, ok := si.byTag[attr]; ok {
		return idx
	}
	return si.byName[norm]
}

var structInfos sync.Map // reflect.Type -> *structInfo

func structInfoOf(t reflect.Type) *structInfo {
	if si, ok := structInfos.Load(t); ok {
		return si.(*structInfo)
	}
	si := &structInfo{byTag: map[string][]int{}, byName: map[string][]int{}}
	put := func(m map[string][]int, key string, idx []int) {
		if prev, ok := m[key]; ok && len(prev) <= len(idx) {
			return // the shallower (or first) field wins, as in encoding/json
		}
		m[key] = idx
	}
	for _, f := range reflect.VisibleFields(t) {
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		if name, _, _ := strings.Cut(tag, ","); name != "" {
			put(si.byTag, name, f.Index)
		}
		put(si.byName, normalizeName(f.Name), f.Index)
	}
	actual, _ := structInfos.LoadOrStore(t, si)
	return actual.(*structInfo)
}

// normalizeName lower-cases s and drops underscores, so that "farmer_name",
// "FarmerName" and "farmerName" compare equal.
func normalizeName(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r == '_' {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}
