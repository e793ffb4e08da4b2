// Package fakemkt is a stand-in for the KooGallery open API, for the local run and
// integration tests. It verifies the SDK-HMAC-SHA256 signature of every call with
// shared/apigsign, records what it received, serves the documented mock orders and
// synthesises an order for any other ID. Faults can be injected per path.
package fakemkt

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/kgseller/kgseller/shared/apigsign"
	"github.com/kgseller/kgseller/shared/openapi"
)

// Call is one request the fake received.
type Call struct {
	Method    string
	Path      string
	Query     string
	AccessKey string
	Verified  bool
	Error     string // why verification failed
	Status    int
	Time      time.Time
}

// Fault makes the fake fail a call: it answers Status (or, with Delay, stalls).
type Fault struct {
	Status int
	Delay  time.Duration
}

// Server is the fake open API.
type Server struct {
	verifier apigsign.Verifier
	mux      *http.ServeMux
	now      func() time.Time

	mu     sync.Mutex
	calls  []Call
	faults map[string][]Fault // by path: consumed one per call
	lic    *licenseFake       // license.go
}

// New returns a fake accepting the given AK/SK pair.
func New(ak, sk string) *Server {
	s := &Server{mux: http.NewServeMux(), now: time.Now, faults: map[string][]Fault{}}
	// The open API takes the SDK signer's UNSIGNED-PAYLOAD (multipart uploads),
	// whose file is bound by the sha256 form field instead.
	s.verifier = apigsign.Verifier{
		Secret:               func(k string) ([]byte, bool) { return []byte(sk), k == ak },
		RequireHost:          true,
		AllowUnsignedPayload: true,
	}
	s.Handle("GET "+openapi.QueryOrderPath, s.queryOrder)
	s.registerLicense()
	return s
}

// Handle registers a signed endpoint; h runs only for correctly signed calls.
func (s *Server) Handle(pattern string, h func(w http.ResponseWriter, r *http.Request, body []byte)) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
		if err != nil {
			http.Error(w, "unreadable body", http.StatusBadRequest)
			return
		}
		call := Call{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Time: s.now()}
		ak, verr := s.verifier.VerifyHTTP(r, body)
		call.AccessKey, call.Verified = ak, verr == nil
		if verr != nil {
			call.Error = verr.Error()
			call.Status = http.StatusUnauthorized
			s.record(call)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error_code": "APIGW.0301", "error_msg": "Incorrect IAM authentication information: " + verr.Error()})
			return
		}
		if f, ok := s.nextFault(r.URL.Path); ok {
			if f.Delay > 0 {
				select {
				case <-time.After(f.Delay):
				case <-r.Context().Done():
				}
			}
			if f.Status != 0 {
				call.Status = f.Status
				s.record(call)
				writeJSON(w, f.Status, map[string]string{"error_code": "MKT.9999", "error_msg": "injected fault"})
				return
			}
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		h(rec, r, body)
		call.Status = rec.status
		s.record(call)
	})
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Fail queues faults for the next calls to path, one per call.
func (s *Server) Fail(path string, faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[path] = append(s.faults[path], faults...)
}

func (s *Server) nextFault(path string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.faults[path]
	if len(q) == 0 {
		return Fault{}, false
	}
	s.faults[path] = q[1:]
	return q[0], true
}

func (s *Server) record(c Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
}

// Calls returns what the fake received, oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// CallsTo returns the calls to one path.
func (s *Server) CallsTo(path string) []Call {
	var out []Call
	for _, c := range s.Calls() {
		if c.Path == path {
			out = append(out, c)
		}
	}
	return out
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// WriteOK writes a successful open-API answer: {"resultCode":"MKT.0000",...fields}.
func WriteOK(w http.ResponseWriter, fields map[string]any) {
	out := map[string]any{"resultCode": openapi.SuccessCode, "resultMsg": "Success"}
	for k, v := range fields {
		out[k] = v
	}
	writeJSON(w, http.StatusOK, out)
}

// WriteError writes a failed open-API answer with HTTP 200, as the marketplace does
// for business errors.
func WriteError(w http.ResponseWriter, code, msg string) {
	writeJSON(w, http.StatusOK, map[string]string{"resultCode": code, "resultMsg": msg})
}

func (s *Server) queryOrder(w http.ResponseWriter, r *http.Request, _ []byte) {
	orderID := r.URL.Query().Get("orderId")
	if orderID == "" {
		WriteError(w, "MKT.0100", "orderId is required")
		return
	}
	WriteOK(w, map[string]any{"orderInfo": Order(orderID, r.URL.Query().Get("orderLineId"), s.now())})
}

// mock describes a documented mock order.
type mock struct {
	orderType, chargingMode, periodType string
	periodNumber                        int
	linear                              int
}

// Mocks are the documented mock order IDs (docs/protocol.md#mock-orders).
var mocks = map[string]mock{
	"MOCKPERIODYEARNEW":      {"NEW", "PERIOD", "year", 1, 50},
	"MOCKONETIMENEW":         {"NEW", "ONE_TIME", "", 0, 1},
	"MOCKONDEMAND":           {"NEW", "ON_DEMAND", "", 0, 0},
	"MOCKONDEMANDPKG":        {"NEW", "ON_DEMAND_PKG", "month", 1, 1000},
	"MOCKPERIODDAYTRIAL":     {"TRIAL", "PERIOD", "day", 7, 5},
	"MOCKMONTYTRIALTOFORMAL": {"TRIAL_TO_FORMAL", "PERIOD", "month", 1, 5},
	"MOCKMONTYUNSUBSCRIBE":   {"UNSUBSCRIBE", "PERIOD", "month", 1, 5},
	"MOCKMONTYRENEW":         {"RENEW", "PERIOD", "month", 1, 5},
	"MOCKMONTYCHANGE":        {"CHANGE", "PERIOD", "month", 1, 100},
}

// MockOrderIDs lists the documented mock order IDs.
func MockOrderIDs() []string {
	ids := make([]string, 0, len(mocks))
	for id := range mocks {
		ids = append(ids, id)
	}
	return ids
}

// Order returns the order the fake answers for orderID: a documented mock order,
// or a synthesised monthly order for any other ID.
func Order(orderID, orderLineID string, now time.Time) map[string]any {
	m, ok := mocks[orderID]
	if !ok {
		m = mock{"NEW", "PERIOD", "month", 1, 10}
	}
	if orderLineID == "" {
		orderLineID = orderID + "-000001"
	}
	line := map[string]any{
		"orderLineId":  orderLineID,
		"chargingMode": m.chargingMode,
		"productInfo": []map[string]any{{
			"productId":   "OFFI" + strings.ToUpper(fmt.Sprintf("%x", len(orderID)*7919+m.linear)),
			"skuCode":     "sku-" + strings.ToLower(m.chargingMode),
			"linearValue": m.linear,
			"productName": "MOCK product, " + strings.ToLower(m.chargingMode),
		}},
		"extendParams":          []map[string]string{{"name": "emailDomainName", "value": "test.example.com"}},
		"currency":              "100",
		"currencyAfterDiscount": "100",
	}
	if m.periodType != "" {
		line["periodType"], line["periodNumber"] = m.periodType, m.periodNumber
		exp := now.UTC().AddDate(0, 1, 0)
		switch m.periodType {
		case "year":
			exp = now.UTC().AddDate(m.periodNumber, 0, 0)
		case "day":
			exp = now.UTC().AddDate(0, 0, m.periodNumber)
		}
		line["expireTime"] = exp.Format("20060102") + "235959"
	}
	return map[string]any{
		"orderId":    orderID,
		"orderType":  m.orderType,
		"createTime": now.UTC().Format("20060102150405"),
		"orderLine":  []any{line},
		"buyerInfo": map[string]any{
			"mobilePhone": "18688888888", "email": nil, "customerId": "459bbbec25d24749b2eb83be37b602a8",
			"customerName": "mock_user_01", "customerRealName": "Mock User", "customerType": 0, "userId": nil, "userName": nil,
		},
		"extendParams": []any{},
	}
}
