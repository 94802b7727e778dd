// Command vcsim is the lab's simulated vCenter: the govmomi simulator (with the lab's patches, see
// tests/lab/vcenter/launcher.py) holding the topology's inventory, served over HTTPS with the lab CA's
// certificate, plus a plain-HTTP control endpoint for request counting and fault injection.
package main

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/soap"
)

type config struct {
	Address     string `json:"address"`
	Port        int    `json:"port"`
	ControlPort int    `json:"control_port"`
	Username    string `json:"username"`
	Password    string `json:"password"`
	CertFile    string `json:"cert_file"`
	KeyFile     string `json:"key_file"`
	StateDir    string `json:"state_dir"`
	PageSize    int    `json:"default_page_size"`
	// More logins with the privileges each holds (the main one is an administrator), and the privileges
	// each method needs ("Type.Method" -> privilege ids, from pyVmomi's type information).
	Accounts         []simulator.LabAccount `json:"accounts"`
	MethodPrivileges map[string][]string    `json:"method_privileges"`
	ToolsStartMS     int                    `json:"tools_start_ms"`
	simulator.LabInventory
}

// Methods a client may call before it has logged in; everything else needs a live session, which
// the simulator itself does not insist on for property retrieval.
var sessionless = map[string]bool{
	"RetrieveServiceContent":        true,
	"Login":                         true,
	"LoginByToken":                  true,
	"LoginExtensionByCertificate":   true,
	"LoginExtensionBySubjectName":   true,
	"LoginExtensionByCertificateEx": true,
	"LoginBySSPI":                   true,
	"CloneSession":                  true,
}

type lab struct {
	cfg      *config
	sdk      http.Handler
	mu       sync.Mutex
	requests int
	byMethod map[string]int
	latency  time.Duration
	dropped  int
	stop     chan struct{}
	model    *simulator.Model
}

type soapCall struct {
	method   string
	thisType string
	thisVal  string
	prop     string
}

// parseCall reads just far enough into the envelope to name the method and its target object.
func parseCall(body []byte) soapCall {
	var call soapCall
	dec := xml.NewDecoder(bytes.NewReader(body))
	inBody := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return call
		}
		start, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch {
		case !inBody:
			inBody = start.Name.Local == "Body"
		case call.method == "":
			call.method = start.Name.Local
		default:
			if start.Name.Local == "_this" {
				for _, a := range start.Attr {
					if a.Name.Local == "type" && a.Name.Space == "" {
						call.thisType = a.Value
					}
				}
				var v string
				if err := dec.DecodeElement(&v, &start); err == nil {
					call.thisVal = v
				}
				if call.method == "Fetch" {
					continue
				}
			}
			if start.Name.Local == "prop" {
				var v string
				if err := dec.DecodeElement(&v, &start); err == nil {
					call.prop = v
				}
			}
			return call
		}
	}
}

// requiredArguments are method arguments the vSphere API declares required (pyVmomi's type info: no
// F_OPTIONAL flag) where govmomi's decoder cannot tell a missing element from a zero value. vCenter
// refuses such a request as a whole (InvalidRequest) instead of taking the zero value.
var requiredArguments = map[string][]string{
	"EnterMaintenanceMode_Task": {"timeout"},
	"ExitMaintenanceMode_Task":  {"timeout"},
	"CheckRelocate_Task":        {"vm", "spec"},
}

// methodArguments names the direct children of the SOAP body's method element.
func methodArguments(body []byte) map[string]bool {
	names := map[string]bool{}
	dec := xml.NewDecoder(bytes.NewReader(body))
	depth, methodDepth := 0, -1
	inBody := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return names
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch {
			case !inBody && t.Name.Local == "Body":
				inBody = true
			case inBody && methodDepth < 0:
				methodDepth = depth
			case methodDepth >= 0 && depth == methodDepth+1:
				names[t.Name.Local] = true
			}
		case xml.EndElement:
			depth--
		}
	}
}

func writeInvalidRequest(w http.ResponseWriter, method, argument string) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<soapenv:Body><soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>Required parameter %s is missing in call to %s</faultstring><detail><InvalidRequestFault xmlns="urn:vim25" xsi:type="InvalidRequest"></InvalidRequestFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>`,
		xmlEscape(argument), xmlEscape(method))
}

var anyTypeMoRef = regexp.MustCompile(`(:type=")ManagedObject(")`)

var typeAttr = regexp.MustCompile(`(?:^|[^:A-Za-z])type="([A-Za-z]+)"`)

// publicRead: vCenter lets anyone read the ServiceInstance's content (that is how a login starts) and
// SessionManager.currentSession (unset when logged out; clients use it to probe their session).
func publicRead(call soapCall, body []byte) bool {
	if call.method == "Fetch" {
		return call.thisType == "ServiceInstance"
	}
	if call.method != "RetrieveProperties" && call.method != "RetrievePropertiesEx" {
		return false
	}
	seen := false
	for _, m := range typeAttr.FindAllSubmatch(body, -1) {
		switch string(m[1]) {
		case "SessionManager", "ServiceInstance":
			seen = true
		case "PropertyCollector":
		default:
			return false
		}
	}
	return seen
}

func xmlEscape(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// writeNoPermission answers a call the session's user holds no privilege for, as vCenter does.
func writeNoPermission(w http.ResponseWriter, call soapCall, privilege string) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<soapenv:Body><soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>Permission to perform this operation was denied.</faultstring><detail><NoPermissionFault xmlns="urn:vim25" xsi:type="NoPermission"><object type="%s">%s</object><privilegeId>%s</privilegeId></NoPermissionFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>`,
		xmlEscape(call.thisType), xmlEscape(call.thisVal), xmlEscape(privilege))
}

func writeNotAuthenticated(w http.ResponseWriter, call soapCall) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<soapenv:Body><soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>The session is not authenticated.</faultstring><detail><NotAuthenticatedFault xmlns="urn:vim25" xsi:type="NotAuthenticated"><object type="%s">%s</object><privilegeId>System.View</privilegeId></NotAuthenticatedFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>`,
		xmlEscape(call.thisType), xmlEscape(call.thisVal))
}

func (l *lab) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/sdk/vimService" {
		r.URL.Path = "/sdk"
	}
	if r.URL.Path != "/sdk" || r.Method != http.MethodPost {
		l.sdk.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	_ = r.Body.Close()
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	// pyVmomi types a managed object reference inside an anyType (e.g. a DRS override's removeKey) as
	// xsi:type="ManagedObject", which vCenter accepts and govmomi's decoder does not know.
	body = anyTypeMoRef.ReplaceAll(body, []byte("${1}ManagedObjectReference$2"))
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	call := parseCall(body)

	l.mu.Lock()
	l.requests++
	name := call.method
	if name == "" {
		name = "(unparsed)"
	}
	l.byMethod[name]++
	delay := l.latency
	l.mu.Unlock()
	if delay > 0 {
		time.Sleep(delay)
	}

	if !sessionless[call.method] && !publicRead(call, body) {
		valid := false
		user := ""
		if cookie, err := r.Cookie(soap.SessionCookieName); err == nil {
			valid = simulator.LabSessionValid(cookie.Value)
			user = simulator.LabSessionUser(cookie.Value)
		}
		if !valid && call.method == "Fetch" && call.thisType == "SessionManager" && call.prop == "currentSession" {
			// pyVmomi reads content.sessionManager.currentSession this way; logged out, vCenter answers unset.
			w.Header().Set("Content-Type", "text/xml; charset=utf-8")
			fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<soapenv:Body><FetchResponse xmlns="urn:vim25"></FetchResponse></soapenv:Body></soapenv:Envelope>`)
			return
		}
		if !valid {
			writeNotAuthenticated(w, call)
			return
		}
		if missing := simulator.LabMissingPrivilege(user, call.thisType, call.method); missing != "" {
			writeNoPermission(w, call, missing)
			return
		}
	}
	if required, ok := requiredArguments[call.method]; ok {
		present := methodArguments(body)
		for _, name := range required {
			if !present[name] {
				writeInvalidRequest(w, call.method, name)
				return
			}
		}
	}
	l.sdk.ServeHTTP(w, r)
}

func writeJSON(w http.ResponseWriter, status int, v interface{}) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (l *lab) stats() map[string]interface{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	by := make(map[string]int, len(l.byMethod))
	for k, v := range l.byMethod {
		by[k] = v
	}
	return map[string]interface{}{"soap_requests": l.requests, "by_method": by}
}

func (l *lab) faults() map[string]interface{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return map[string]interface{}{
		"fail_reconfigure": simulator.LabFailReconfigure(),
		"latency_ms":       int(l.latency / time.Millisecond),
		"sessions_dropped": l.dropped,
	}
}

func (l *lab) control() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/stats", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, l.stats())
	})
	mux.HandleFunc("/stats/reset", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "POST only"})
			return
		}
		l.mu.Lock()
		l.requests = 0
		l.byMethod = map[string]int{}
		l.mu.Unlock()
		writeJSON(w, http.StatusOK, l.stats())
	})
	mux.HandleFunc("/faults", func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			writeJSON(w, http.StatusOK, l.faults())
			return
		}
		if r.Method != http.MethodPost {
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "GET or POST"})
			return
		}
		var req struct {
			FailReconfigure *int `json:"fail_reconfigure"`
			DropSessions    bool `json:"drop_sessions"`
			LatencyMS       *int `json:"latency_ms"`
			Clear           bool `json:"clear"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		if req.Clear {
			simulator.LabSetFailReconfigure(0)
			l.mu.Lock()
			l.latency = 0
			l.mu.Unlock()
		}
		if req.FailReconfigure != nil {
			simulator.LabSetFailReconfigure(*req.FailReconfigure)
		}
		if req.LatencyMS != nil {
			l.mu.Lock()
			l.latency = time.Duration(*req.LatencyMS) * time.Millisecond
			l.mu.Unlock()
		}
		if req.DropSessions {
			n := simulator.LabDropSessions()
			l.mu.Lock()
			l.dropped += n
			l.mu.Unlock()
		}
		writeJSON(w, http.StatusOK, l.faults())
	})
	mux.HandleFunc("/status", func(w http.ResponseWriter, r *http.Request) {
		count := l.model.Count()
		writeJSON(w, http.StatusOK, map[string]interface{}{
			"datacenters": count.Datacenter, "clusters": count.Cluster, "hosts": count.Host,
			"vms": count.Machine, "stats": l.stats(), "faults": l.faults(),
		})
	})
	mux.HandleFunc("/reset", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "POST only"})
			return
		}
		// The inventory is rebuilt by starting over: same pid and ports, new ready file.
		_ = os.Remove(filepath.Join(l.cfg.StateDir, "vcenter.ready.json"))
		writeJSON(w, http.StatusAccepted, map[string]interface{}{"restarting": true})
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		go func() {
			time.Sleep(100 * time.Millisecond)
			close(l.stop)
		}()
	})
	return mux
}

func writeReady(stateDir string, v interface{}) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	path := filepath.Join(stateDir, "vcenter.ready.json")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func main() {
	configPath := flag.String("config", "", "lab config JSON written by launcher.py")
	flag.Parse()
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	data, err := os.ReadFile(*configPath)
	if err != nil {
		log.Fatalf("config: %s", err)
	}
	cfg := &config{}
	if err := json.Unmarshal(data, cfg); err != nil {
		log.Fatalf("config: %s", err)
	}
	if cfg.Address == "" {
		cfg.Address = "127.0.0.1"
	}
	if cfg.ControlPort == 0 {
		cfg.ControlPort = cfg.Port + 1
	}

	if cfg.PageSize > 0 {
		simulator.LabDefaultPageSize = cfg.PageSize
	}
	if cfg.ToolsStartMS > 0 {
		simulator.LabToolsStartDelay = time.Duration(cfg.ToolsStartMS) * time.Millisecond
	}
	accounts := append([]simulator.LabAccount{{Username: cfg.Username, Password: cfg.Password}}, cfg.Accounts...)
	simulator.LabSetAccounts(accounts, cfg.MethodPrivileges)

	started := time.Now()
	model := simulator.VPX()
	model.Datacenter = 1
	model.Portgroup = 0
	model.Host = 0
	model.Cluster = 0
	model.ClusterHost = 0
	model.Datastore = 0
	model.Machine = 0
	if err := model.Create(); err != nil {
		log.Fatalf("model: %s", err)
	}
	dsDir := filepath.Join(cfg.StateDir, "vcenter-datastore")
	_ = os.RemoveAll(dsDir)
	if err := simulator.LabBuild(&cfg.LabInventory, dsDir); err != nil {
		log.Fatalf("inventory: %s", err)
	}
	count := model.Count()
	log.Printf("inventory: %d clusters, %d hosts, %d VMs built in %s",
		count.Cluster, count.Host, count.Machine, time.Since(started).Round(time.Millisecond))

	sdkAddr := net.JoinHostPort(cfg.Address, strconv.Itoa(cfg.Port))
	svc := model.Service
	svc.Listen = &url.URL{Host: sdkAddr, User: url.UserPassword(cfg.Username, cfg.Password)}
	svc.RegisterSDK(simulator.Map)
	svc.ServeMux.HandleFunc("/sdk/vimServiceVersions.xml", svc.ServiceVersions)
	simulator.Map.SessionManager().ServiceHostName = sdkAddr

	l := &lab{cfg: cfg, sdk: svc.ServeMux, byMethod: map[string]int{}, stop: make(chan struct{}), model: model}

	cert, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
	if err != nil {
		log.Fatalf("tls: %s", err)
	}
	sdkListener, err := net.Listen("tcp", sdkAddr)
	if err != nil {
		log.Fatalf("listen: %s", err)
	}
	controlAddr := net.JoinHostPort(cfg.Address, strconv.Itoa(cfg.ControlPort))
	controlListener, err := net.Listen("tcp", controlAddr)
	if err != nil {
		log.Fatalf("listen: %s", err)
	}
	sdkServer := &http.Server{
		Handler:   l,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ErrorLog:  log.New(io.Discard, "", 0),
	}
	controlServer := &http.Server{Handler: l.control()}
	go func() { _ = sdkServer.ServeTLS(sdkListener, "", "") }()
	go func() { _ = controlServer.Serve(controlListener) }()

	ready := map[string]string{
		"url":     fmt.Sprintf("https://%s/sdk", sdkAddr),
		"control": fmt.Sprintf("http://%s", controlAddr),
	}
	if err := writeReady(cfg.StateDir, ready); err != nil {
		log.Fatalf("ready file: %s", err)
	}
	log.Printf("serving %s (control %s), ready after %s", ready["url"], ready["control"],
		time.Since(started).Round(time.Millisecond))

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	select {
	case sig := <-signals:
		log.Printf("%s: stopping", sig)
		_ = os.Remove(filepath.Join(cfg.StateDir, "vcenter.ready.json"))
		_ = os.RemoveAll(dsDir)
	case <-l.stop:
		// exec closes the listeners (close-on-exec) and the new image binds them again; if it cannot
		// run (e.g. the binary was rebuilt and removed meanwhile) keep serving the current inventory.
		log.Printf("reset: restarting with a fresh inventory")
		self, err := os.Executable()
		if err == nil {
			err = syscall.Exec(self, os.Args, os.Environ())
		}
		log.Printf("reset failed, still serving the current inventory: %s", err)
		if err := writeReady(cfg.StateDir, ready); err != nil {
			log.Fatalf("ready file: %s", err)
		}
		<-signals
		_ = os.Remove(filepath.Join(cfg.StateDir, "vcenter.ready.json"))
		_ = os.RemoveAll(dsDir)
	}
	_ = sdkServer.Close()
	_ = controlServer.Close()
}
