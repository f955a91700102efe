// Command go-oracle renders Go text/templates the way confd does, for confd-ts's differential tests.
//
// It reads a JSON array of cases on stdin and writes a JSON array of results on stdout, one per case:
//
//	in:  [{"name": "t.tmpl", "template": "...", "data": <any JSON>, "kv": {"/key": "value"},
//	       "ips": {"host": ["10.0.0.1"]}, "srv": {"service/proto/name": [{"Target": ..., "Port": 80, ...}]},
//	       "now": <Unix milliseconds>}]
//	out: [{"output": "..."} | {"error": "..."}]
//
// With -lines it answers one case per line instead (a JSON case in, a JSON result out), for callers that
// ask as they go.
//
// The template is parsed with confd's function map (template_funcs.go and memkv's store functions),
// rebuilt here from the standard library and fed from the case: "kv" is the store, "ips" and "srv" answer
// the DNS functions, "now" is what datetime returns (local time). "data" is the template's dot; confd itself
// passes nil, which is what a JSON null gives.
package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"

	"confdoracle/memkv"
)

type srvRecord struct {
	Target   string
	Port     uint16
	Priority uint16
	Weight   uint16
}

type testCase struct {
	Name     string                 `json:"name"`
	Template string                 `json:"template"`
	Data     json.RawMessage        `json:"data"`
	KV       map[string]string      `json:"kv"`
	IPs      map[string][]string    `json:"ips"`
	SRV      map[string][]srvRecord `json:"srv"`
	Now      int64                  `json:"now"`
}

type result struct {
	Output *string `json:"output,omitempty"`
	Error  *string `json:"error,omitempty"`
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-lines" {
		serveLines()
		return
	}
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail(err)
	}
	var cases []testCase
	if err := json.Unmarshal(input, &cases); err != nil {
		fail(err)
	}
	results := make([]result, len(cases))
	for i, c := range cases {
		results[i] = render(c)
	}
	out, err := json.Marshal(results)
	if err != nil {
		fail(err)
	}
	os.Stdout.Write(out)
}

func serveLines() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	out := bufio.NewWriter(os.Stdout)
	for in.Scan() {
		var c testCase
		if err := json.Unmarshal(in.Bytes(), &c); err != nil {
			fail(err)
		}
		line, err := json.Marshal(render(c))
		if err != nil {
			fail(err)
		}
		out.Write(append(line, '\n'))
		out.Flush()
	}
	if err := in.Err(); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "go-oracle:", err)
	os.Exit(2)
}

func render(c testCase) (r result) {
	defer func() {
		if p := recover(); p != nil {
			msg := fmt.Sprintf("panic: %v", p)
			r = result{Error: &msg}
		}
	}()
	name := c.Name
	if name == "" {
		name = "test.tmpl"
	}
	var data interface{}
	if len(c.Data) > 0 {
		if err := json.Unmarshal(c.Data, &data); err != nil {
			msg := "bad data: " + err.Error()
			return result{Error: &msg}
		}
	}
	funcs := newFuncMap(c)
	for k, v := range memkv.New(c.KV).FuncMap() {
		funcs[k] = v
	}
	tmpl, err := template.New(name).Funcs(funcs).Parse(c.Template)
	if err != nil {
		msg := err.Error()
		return result{Error: &msg}
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, data); err != nil {
		msg := err.Error()
		return result{Error: &msg}
	}
	out := buf.String()
	return result{Output: &out}
}

// newFuncMap is confd's resource/template/template_funcs.go, with DNS and the clock answered by the case.
func newFuncMap(c testCase) map[string]interface{} {
	m := make(map[string]interface{})
	m["base"] = path.Base
	m["split"] = strings.Split
	m["json"] = unmarshalJSONObject
	m["jsonArray"] = unmarshalJSONArray
	m["dir"] = path.Dir
	m["map"] = createMap
	m["getenv"] = getenv
	m["join"] = strings.Join
	m["datetime"] = func() time.Time { return time.UnixMilli(c.Now) }
	m["toUpper"] = strings.ToUpper
	m["toLower"] = strings.ToLower
	m["contains"] = strings.Contains
	m["replace"] = strings.Replace
	m["trimSuffix"] = strings.TrimSuffix
	m["lookupIP"] = func(host string) []string { return lookupIP(c, host) }
	m["lookupIPV4"] = func(host string) []string { return filterIPs(lookupIP(c, host), ".") }
	m["lookupIPV6"] = func(host string) []string { return filterIPs(lookupIP(c, host), ":") }
	m["lookupSRV"] = func(service, proto, name string) []*net.SRV { return lookupSRV(c, service, proto, name) }
	m["fileExists"] = isFileExist
	m["base64Encode"] = func(data string) string { return base64.StdEncoding.EncodeToString([]byte(data)) }
	m["base64Decode"] = base64Decode
	m["parseBool"] = strconv.ParseBool
	m["reverse"] = reverse
	m["sortByLength"] = sortByLength
	m["sortKVByLength"] = sortKVByLength
	m["add"] = func(a, b int) int { return a + b }
	m["sub"] = func(a, b int) int { return a - b }
	m["div"] = func(a, b int) int { return a / b }
	m["mod"] = func(a, b int) int { return a % b }
	m["mul"] = func(a, b int) int { return a * b }
	m["seq"] = seq
	m["atoi"] = strconv.Atoi
	return m
}

func seq(first, last int) []int {
	var arr []int
	for i := first; i <= last; i++ {
		arr = append(arr, i)
	}
	return arr
}

type byLengthKV []memkv.KVPair

func (s byLengthKV) Len() int           { return len(s) }
func (s byLengthKV) Swap(i, j int)      { s[i], s[j] = s[j], s[i] }
func (s byLengthKV) Less(i, j int) bool { return len(s[i].Key) < len(s[j].Key) }

func sortKVByLength(values []memkv.KVPair) []memkv.KVPair {
	sort.Sort(byLengthKV(values))
	return values
}

type byLength []string

func (s byLength) Len() int           { return len(s) }
func (s byLength) Swap(i, j int)      { s[i], s[j] = s[j], s[i] }
func (s byLength) Less(i, j int) bool { return len(s[i]) < len(s[j]) }

func sortByLength(values []string) []string {
	sort.Sort(byLength(values))
	return values
}

func reverse(values interface{}) interface{} {
	switch values.(type) {
	case []string:
		v := values.([]string)
		for left, right := 0, len(v)-1; left < right; left, right = left+1, right-1 {
			v[left], v[right] = v[right], v[left]
		}
	case []memkv.KVPair:
		v := values.([]memkv.KVPair)
		for left, right := 0, len(v)-1; left < right; left, right = left+1, right-1 {
			v[left], v[right] = v[right], v[left]
		}
	}
	return values
}

func getenv(key string, v ...string) string {
	defaultValue := ""
	if len(v) > 0 {
		defaultValue = v[0]
	}
	value := os.Getenv(key)
	if value == "" {
		return defaultValue
	}
	return value
}

func createMap(values ...interface{}) (map[string]interface{}, error) {
	if len(values)%2 != 0 {
		return nil, errors.New("invalid map call")
	}
	dict := make(map[string]interface{}, len(values)/2)
	for i := 0; i < len(values); i += 2 {
		key, ok := values[i].(string)
		if !ok {
			return nil, errors.New("map keys must be strings")
		}
		dict[key] = values[i+1]
	}
	return dict, nil
}

func unmarshalJSONObject(data string) (map[string]interface{}, error) {
	var ret map[string]interface{}
	err := json.Unmarshal([]byte(data), &ret)
	return ret, err
}

func unmarshalJSONArray(data string) ([]interface{}, error) {
	var ret []interface{}
	err := json.Unmarshal([]byte(data), &ret)
	return ret, err
}

func lookupIP(c testCase, host string) []string {
	ips, ok := c.IPs[host]
	if !ok {
		return nil
	}
	out := append([]string(nil), ips...)
	sort.Strings(out)
	return out
}

func filterIPs(ips []string, sep string) []string {
	var addresses []string
	for _, ip := range ips {
		if strings.Contains(ip, sep) {
			addresses = append(addresses, ip)
		}
	}
	return addresses
}

type sortSRV []*net.SRV

func (s sortSRV) Len() int      { return len(s) }
func (s sortSRV) Swap(i, j int) { s[i], s[j] = s[j], s[i] }
func (s sortSRV) Less(i, j int) bool {
	str1 := fmt.Sprintf("%s%d%d%d", s[i].Target, s[i].Port, s[i].Priority, s[i].Weight)
	str2 := fmt.Sprintf("%s%d%d%d", s[j].Target, s[j].Port, s[j].Priority, s[j].Weight)
	return str1 < str2
}

func lookupSRV(c testCase, service, proto, name string) []*net.SRV {
	records, ok := c.SRV[service+"/"+proto+"/"+name]
	if !ok {
		return []*net.SRV{}
	}
	addrs := make([]*net.SRV, len(records))
	for i, r := range records {
		addrs[i] = &net.SRV{Target: r.Target, Port: r.Port, Priority: r.Priority, Weight: r.Weight}
	}
	sort.Sort(sortSRV(addrs))
	return addrs
}

func isFileExist(fpath string) bool {
	if _, err := os.Stat(fpath); os.IsNotExist(err) {
		return false
	}
	return true
}

func base64Decode(data string) (string, error) {
	s, err := base64.StdEncoding.DecodeString(data)
	return string(s), err
}
