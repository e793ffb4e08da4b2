package rtbench

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"fmt"
	"github.com/kgseller/kgseller/shared/probe"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kgseller/kgseller/shared/endpoint"
	"github.com/kgseller/kgseller/shared/fgruntime"
	"github.com/kgseller/kgseller/shared/fulfil"
	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/kit"
	"github.com/kgseller/kgseller/shared/kit/clientsecret"
	"github.com/kgseller/kgseller/shared/license"
	"github.com/kgseller/kgseller/shared/licensefile"
	"github.com/kgseller/kgseller/shared/marketplace"
	"github.com/kgseller/kgseller/shared/openapi"
	"github.com/kgseller/kgseller/shared/ordernotify"
	"github.com/kgseller/kgseller/shared/provision"
	"github.com/kgseller/kgseller/shared/saas"
	"github.com/kgseller/kgseller/shared/secretbox"
	"github.com/kgseller/kgseller/shared/store"
)

// The access keys the catalogue's handlers verify with, one per interface type.
const (
	BasicKey   = "RoundTripBasicKey-0123456789"
	LicenseKey = "RoundTripLicenseKey-0123456"
	NotifyKey  = "RoundTripNotifyKey-01234567"
	KitKey     = "RoundTripKitKey-0123456789"
)

// Results of the worker's activities.
const doneOutcome = string(fulfil.Done)

// Catalogue builds every family's activities over e's store. fulfilWith is the
// hand-off of saas-produce and license-produce (nil: the worker's timer runs the
// jobs, as FULFIL_MODE=timer does; the async invocation costs the database
// nothing, so the counts are those of the deployed mode).
type Catalogue struct {
	env    *Env
	Fulfil func(ctx context.Context, jobID int64) bool
	// PurgeEvery is the handlers' endpoint.Config.PurgeEvery (0: no request
	// purges nonces, so that every call costs the same).
	PurgeEvery int
	run        string
	seq        atomic.Int64
	once       map[string]*onceValue
	mu         sync.Mutex
	runner     *fulfil.Runner
	kitByName  map[string]fgruntime.Handler
}

type onceValue struct {
	once sync.Once
	v    string
	err  error
}

// NewCatalogue returns the catalogue over e.
func NewCatalogue(e *Env) *Catalogue {
	return &Catalogue{env: e, run: strconv.FormatInt(time.Now().UnixNano()%(1<<40), 36), once: map[string]*onceValue{}}
}

// Activities lists every activity of every family.
func (c *Catalogue) Activities() []Activity {
	var out []Activity
	out = append(out, c.SaaS("saas-produce", c.SaaSHandler(), BasicKey)...)
	out = append(out, c.License()...)
	out = append(out, c.OrderNotify()...)
	out = append(out, c.Kit()...)
	out = append(out, c.Worker()...)
	return out
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func (c *Catalogue) st() *store.Store { return c.env.Store }

// pair returns two new strings of equal length: one for a call, one for its twin.
func (c *Catalogue) pair(prefix string) (string, string) {
	n := strconv.FormatInt(c.seq.Add(1), 36)
	return prefix + c.run + n + "a", prefix + c.run + n + "b"
}

// setup runs make once per name and remembers its value (rows shared by calls).
func (c *Catalogue) setup(name string, make func() (string, error)) (string, error) {
	c.mu.Lock()
	o, ok := c.once[name]
	if !ok {
		o = &onceValue{}
		c.once[name] = o
	}
	c.mu.Unlock()
	o.once.Do(func() { o.v, o.err = make() })
	return o.v, o.err
}

func (c *Catalogue) provisioner() provision.Static {
	return provision.Static{FrontEndURL: "https://app.example.com/i/{instanceId}"}
}

func (c *Catalogue) saasService() *saas.Service {
	return &saas.Service{Store: c.st(), Provisioner: c.provisioner(), Fulfil: c.Fulfil}
}

func (c *Catalogue) endpointHandler(scope, key string, scheme endpoint.Scheme, decode endpoint.Decoder) fgruntime.Handler {
	return endpoint.Handler(endpoint.Config{
		Scope: scope, Scheme: scheme, Verifier: &kgsign.Verifier{Keys: kgsign.MustKeySet(key)},
		Nonces: c.st(), Decode: decode, Logger: quiet(), PurgeEvery: c.PurgeEvery,
	})
}

// SaaSHandler is saas-produce's handler over the catalogue's store, with its Fulfil.
func (c *Catalogue) SaaSHandler() fgruntime.Handler {
	return c.endpointHandler("basic", BasicKey, endpoint.QuerySignature, c.saasService().Decode)
}

// call prepares a signed request to h; the nonce gets a twin of its own.
func (c *Catalogue) call(h fgruntime.Handler, key string, scheme endpoint.Scheme, body string, twin Twin) Call {
	nonce, twinNonce := c.pair("n")
	twin.str(nonce, twinNonce)
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	k := kgsign.NewKey([]byte(key), "t")
	req := events.APIGatewayProxyRequest{HTTPMethod: "POST", Body: body, Headers: map[string]string{"content-type": "application/json"}}
	if scheme == endpoint.KitHeaders {
		req.Headers["x-sign"] = kgsign.KitSignature(k, nonce, ts, []byte(body), false)
		req.Headers["x-timestamp"], req.Headers["x-nonce"] = ts, nonce
	} else {
		req.QueryStringParameters = map[string]string{"signature": kgsign.V2Signature(k, nonce, ts, []byte(body)), "timestamp": ts, "nonce": nonce}
	}
	var resp events.APIGatewayProxyResponse
	return Call{
		Run: func(ctx context.Context) error {
			var err error
			resp, err = h(ctx, req)
			return err
		},
		Result: func() (string, error) {
			m, err := probe.CheckEvent(resp, k)
			if err != nil {
				return "", err
			}
			code, _ := m["resultCode"].(string)
			if msg, _ := m["resultMsg"].(string); code == string(marketplace.InternalError) {
				return code, fmt.Errorf("answered %s %q", code, msg)
			}
			return code, nil
		},
		Twin: twin,
	}
}

// newInstance stores an instance with its provisioning job and returns the job's id.
func (c *Catalogue) newInstance(ctx context.Context, id string) (int64, error) {
	res, err := c.st().CreateInstance(ctx, marketplace.Instance{InstanceID: id, OrderID: id, OrderLineID: id + "-1", BusinessID: id, TestFlag: true})
	if err != nil {
		return 0, err
	}
	return res.JobID, nil
}

// activeInstance stores a provisioned instance.
func (c *Catalogue) activeInstance(ctx context.Context, id string) error {
	job, err := c.newInstance(ctx, id)
	if err != nil {
		return err
	}
	if _, ok, err := c.st().ClaimJob(ctx, job, "rtbench-setup", time.Minute); err != nil || !ok {
		return fmt.Errorf("claiming the provisioning job of %s: %v", id, err)
	}
	return c.st().CompleteJob(ctx, job, "rtbench-setup", store.ActivateInstance(id, marketplace.AppInfo{FrontEndURL: "https://app.example.com/i/" + id}, ""))
}

// shared returns the provisioned instance that a family's calls share.
func (c *Catalogue) shared(ctx context.Context, family string) (string, error) {
	return c.setup(family+"/instance", func() (string, error) {
		id, _ := c.pair("I")
		return id, c.activeInstance(ctx, id)
	})
}

// SaaS lists the SaaS basic activities as the handler h answers them (saas-produce,
// or license-produce for the instance activities of License products).
func (c *Catalogue) SaaS(family string, h fgruntime.Handler, key string) []Activity {
	v2 := func(body string, twin Twin) Call { return c.call(h, key, endpoint.QuerySignature, body, twin) }
	sharedCall := func(body func(id string) string) func(ctx context.Context, i int) (Call, error) {
		return func(ctx context.Context, i int) (Call, error) {
			id, err := c.shared(ctx, family)
			if err != nil {
				return Call{}, err
			}
			return v2(body(id), Twin{}), nil
		}
	}
	// orderCall names the shared instance and an order of the call's own.
	orderCall := func(prefix string, body func(id, order string) string) func(ctx context.Context, i int) (Call, error) {
		return func(ctx context.Context, i int) (Call, error) {
			id, err := c.shared(ctx, family)
			if err != nil {
				return Call{}, err
			}
			order, twinOrder := c.pair(prefix)
			var t Twin
			t.str(order, twinOrder)
			return v2(body(id, order), t), nil
		}
	}
	// twinInstances prepares a new instance for the call and one for its floor.
	twinInstances := func(body func(id string) string) func(ctx context.Context, i int) (Call, error) {
		return func(ctx context.Context, i int) (Call, error) {
			id, twin := c.pair("T")
			for _, x := range []string{id, twin} {
				if _, err := c.newInstance(ctx, x); err != nil {
					return Call{}, err
				}
			}
			var t Twin
			t.str(id, twin)
			return v2(body(id), t), nil
		}
	}
	return []Activity{{
		Family: family, Name: "newInstance", Want: string(marketplace.Processing), Trips: 3, Statements: 6,
		Prepare: func(ctx context.Context, i int) (Call, error) {
			order, twinOrder := c.pair("CS")
			biz, twinBiz := c.pair("B")
			var t Twin
			t.str(order, twinOrder)
			t.str(biz, twinBiz)
			return v2(newInstanceBody(order, biz), t), nil
		},
	}, {
		Family: family, Name: "newInstance, retry", Want: string(marketplace.Success), Trips: 2, Statements: 2,
		Prepare: sharedCall(func(id string) string { return newInstanceBody(id, id+"x") }),
	}, {
		Family: family, Name: "queryInstance", Want: string(marketplace.Success), Trips: 2, Statements: 2,
		Prepare: sharedCall(func(id string) string {
			return fmt.Sprintf(`{"activity":"queryInstance","instanceId":%q,"testFlag":"1"}`, id)
		}),
	}, {
		Family: family, Name: "refreshInstance", Want: string(marketplace.Success), Trips: 2, Statements: 8,
		Prepare: orderCall("RN", func(id, order string) string {
			return fmt.Sprintf(`{"activity":"refreshInstance","expireTime":"20351124023618","instanceId":%q,"orderId":%q,"orderLineId":"%s-1","scene":"RENEWAL","testFlag":"1"}`, id, order, order)
		}),
	}, {
		Family: family, Name: "updateInstanceStatus", Want: string(marketplace.Success), Trips: 2, Statements: 7,
		Prepare: twinInstances(func(id string) string {
			return fmt.Sprintf(`{"activity":"updateInstanceStatus","instanceId":%q,"status":"FREEZE","testFlag":"1"}`, id)
		}),
	}, {
		Family: family, Name: "releaseInstance", Want: string(marketplace.Success), Trips: 2, Statements: 7,
		Prepare: twinInstances(func(id string) string {
			return fmt.Sprintf(`{"activity":"releaseInstance","instanceId":%q,"testFlag":"1"}`, id)
		}),
	}, {
		Family: family, Name: "upgradeInstance", Want: string(marketplace.Success), Trips: 2, Statements: 7,
		Prepare: orderCall("UP", func(id, order string) string {
			return fmt.Sprintf(`{"activity":"upgradeInstance","instanceId":%q,"orderId":%q,"orderLineId":"%s-1","testFlag":"1"}`, id, order, order)
		}),
	}, {
		Family: family, Name: "changeInstanceCheck", Want: string(marketplace.Success), Trips: 2, Statements: 2,
		Prepare: sharedCall(func(id string) string {
			return fmt.Sprintf(`{"activity":"changeInstanceCheck","instanceId":%q,"productInfo":{"productId":"OFFI1","skuCode":"sku-1","productName":"pro","linearValue":5},"testFlag":"1"}`, id)
		}),
	}}
}

func newInstanceBody(order, business string) string {
	return fmt.Sprintf(`{"activity":"newInstance","businessId":%q,"orderId":%q,"orderLineId":"%s-1","testFlag":"1"}`, business, order, order)
}

// License lists license-produce's activities: getLicenseAsync, the license-code
// calls and the instance activities of License products.
func (c *Catalogue) License() []Activity {
	const family = "license-produce"
	instances := c.saasService()
	handler := func(quota int) fgruntime.Handler {
		svc := &license.Service{Store: c.st(), Instances: instances.Decode, Quota: quota, Fulfil: c.Fulfil}
		return c.endpointHandler("license", LicenseKey, endpoint.QuerySignature, svc.Decode)
	}
	h, quota := handler(0), handler(1<<30)
	v2 := func(h fgruntime.Handler, body string, twin Twin) Call {
		return c.call(h, LicenseKey, endpoint.QuerySignature, body, twin)
	}
	getLicense := func(instance, event string) string {
		return fmt.Sprintf(`{"activity":"getLicenseAsync","instanceId":%q,"eventId":%q,"effectiveTime":"2025-01-01 00:00:00 z","expireTime":"2035-01-01 00:00:00 z","testFlag":"1"}`, instance, event)
	}
	first := func(h fgruntime.Handler) func(ctx context.Context, i int) (Call, error) {
		return func(ctx context.Context, i int) (Call, error) {
			id, err := c.shared(ctx, family)
			if err != nil {
				return Call{}, err
			}
			event, twinEvent := c.pair("EV")
			var t Twin
			t.str(event, twinEvent)
			return v2(h, getLicense(id, event), t), nil
		}
	}
	// code calls name a license code of their own, new to the store.
	code := func(body func(code, order string) string) func(ctx context.Context, i int) (Call, error) {
		return func(ctx context.Context, i int) (Call, error) {
			code, twinCode := c.pair("LC")
			order, twinOrder := c.pair("LO")
			var t Twin
			t.str(code, twinCode)
			t.str(order, twinOrder)
			return v2(h, body(code, order), t), nil
		}
	}
	out := []Activity{{
		Family: family, Name: "getLicenseAsync", Want: string(marketplace.Processing), Trips: 3, Statements: 8,
		Prepare: first(h),
	}, {
		Family: family, Name: "getLicenseAsync, quota", Want: string(marketplace.Processing), Trips: 3, Statements: 10,
		Prepare: first(quota),
	}, {
		Family: family, Name: "getLicenseAsync, repeat", Want: string(marketplace.Processing), Trips: 2, Statements: 4,
		Prepare: func(ctx context.Context, i int) (Call, error) {
			id, err := c.shared(ctx, family)
			if err != nil {
				return Call{}, err
			}
			event, err := c.setup(family+"/event", func() (string, error) {
				event, _ := c.pair("EV")
				_, err := c.st().CreateLicense(ctx, store.License{EventID: event, InstanceID: id, EffectiveTime: time.Now(), TestFlag: true}, 0, license.JobIssue)
				return event, err
			})
			if err != nil {
				return Call{}, err
			}
			return v2(h, getLicense(id, event), Twin{}), nil
		},
	}, {
		Family: family, Name: "getLicenseAsync, repeat after upload", Want: string(marketplace.Success), Trips: 3, Statements: 5,
		Prepare: func(ctx context.Context, i int) (Call, error) {
			id, err := c.shared(ctx, family)
			if err != nil {
				return Call{}, err
			}
			event, twinEvent := c.pair("EV")
			var t Twin
			t.str(event, twinEvent)
			var ids [2]store.LicenseCreated
			for k, e := range []string{event, twinEvent} {
				if ids[k], err = c.uploadedLicense(ctx, id, e); err != nil {
					return Call{}, err
				}
			}
			t.id(ids[0].License.ID, ids[1].License.ID)
			t.id(ids[0].JobID, ids[1].JobID)
			return v2(h, getLicense(id, event), t), nil
		},
	}, {
		Family: family, Name: "refreshLicenseCode", Want: string(marketplace.Success), Trips: 2, Statements: 6,
		Prepare: code(func(code, order string) string {
			return fmt.Sprintf(`{"activity":"refreshLicenseCode","scene":"RENEWAL","orderId":%q,"orderLineId":"%s-1","license":%q,"expireTime":"20351124023618","testFlag":"1"}`, order, order, code)
		}),
	}, {
		Family: family, Name: "updateLicenseCodeStatus", Want: string(marketplace.Success), Trips: 2, Statements: 5,
		Prepare: code(func(code, _ string) string {
			return fmt.Sprintf(`{"activity":"updateLicenseCodeStatus","license":%q,"status":"FREEZE","testFlag":"1"}`, code)
		}),
	}, {
		Family: family, Name: "releaseLicenseCode", Want: string(marketplace.Success), Trips: 2, Statements: 5,
		Prepare: code(func(code, order string) string {
			return fmt.Sprintf(`{"activity":"releaseLicenseCode","license":%q,"orderId":%q,"orderLineId":"%s-1","testFlag":"1"}`, code, order, order)
		}),
	}}
	return append(out, c.SaaS(family, h, LicenseKey)...)
}

// uploadedLicense stores a license whose document the marketplace has.
func (c *Catalogue) uploadedLicense(ctx context.Context, instance, event string) (store.LicenseCreated, error) {
	res, err := c.st().CreateLicense(ctx, store.License{EventID: event, InstanceID: instance, EffectiveTime: time.Now(), TestFlag: true}, 0, license.JobIssue)
	if err != nil {
		return res, err
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	if _, err := c.st().DB().ExecContext(ctx, "UPDATE licenses SET state = ?, document = 'document', uploaded_at = ? WHERE id = ?",
		store.LicenseUploaded, now, res.License.ID); err != nil {
		return res, err
	}
	_, err = c.st().DB().ExecContext(ctx, "UPDATE jobs SET state = ?, done_at = ? WHERE id = ?", store.JobDone, now, res.JobID)
	return res, err
}

// OrderNotify lists order-notify's activity.
func (c *Catalogue) OrderNotify() []Activity {
	const family = "order-notify"
	svc := &ordernotify.Service{Store: c.st()}
	h := c.endpointHandler("notify", NotifyKey, endpoint.QuerySignature, svc.Decode)
	body := func(order string) string {
		return fmt.Sprintf(`{"activity":"orderNotify","orderId":%q,"orderLineId":"%s-1","testFlag":"1"}`, order, order)
	}
	return []Activity{{
		Family: family, Name: "orderNotify", Want: string(marketplace.Success), Trips: 2, Statements: 5,
		Prepare: func(ctx context.Context, i int) (Call, error) {
			order, twinOrder := c.pair("ON")
			var t Twin
			t.str(order, twinOrder)
			return c.call(h, NotifyKey, endpoint.QuerySignature, body(order), t), nil
		},
	}, {
		Family: family, Name: "orderNotify, repeat", Want: string(marketplace.Success), Trips: 2, Statements: 5,
		Prepare: func(ctx context.Context, i int) (Call, error) {
			order, err := c.setup(family+"/order", func() (string, error) {
				order, _ := c.pair("ON")
				_, _, err := c.st().RecordOrderNotice(ctx, order, order+"-1", true, ordernotify.JobQuery)
				return order, err
			})
			if err != nil {
				return Call{}, err
			}
			return c.call(h, NotifyKey, endpoint.QuerySignature, body(order), Twin{}), nil
		},
	}}
}

var (
	rsaOnce sync.Once
	rsaKey  *rsa.PrivateKey
	rsaErr  error
)

// KitRSAKey is the seller's application key the catalogue's Kit calls encrypt
// client secrets for, made once per process.
func KitRSAKey() (*rsa.PrivateKey, error) {
	rsaOnce.Do(func() { rsaKey, rsaErr = clientsecret.Generate(clientsecret.MinBits) })
	return rsaKey, rsaErr
}

// Kit lists the joint-operation Kit calls of the five kit-* functions, one row
// each (shared/kit's TestKitRoundTrips and benchmarks hold the largest lists).
func (c *Catalogue) Kit() []Activity {
	const family = "kit"
	key, err := KitRSAKey()
	if err != nil {
		panic(fmt.Sprintf("rtbench: RSA key: %v", err))
	}
	handlers := c.kitHandlers()
	const stamp = `"timeStamp":"20220413093539534"`
	tenant := func(id string, flag int) string {
		return fmt.Sprintf(`{"instanceId":"ki","orderId":"CS-KIT","tenantId":%q,"tenantCode":"code","name":"Tenant","domainName":"https://example.tenantaccount.com","flag":%d,"testFlag":0,%s}`, id, flag, stamp)
	}
	secret, err := clientsecret.EncryptWith(&key.PublicKey, "client-secret", rsa.OAEPOptions{Hash: crypto.SHA256, MGFHash: crypto.SHA1})
	if err != nil {
		panic(fmt.Sprintf("rtbench: client secret: %v", err))
	}
	app := func(id string, flag int) string {
		return fmt.Sprintf(`{"instanceId":"ki","tenantId":"kt","appId":%q,"clientId":"client","clientSecret":%q,"flag":%d,"testFlag":0,%s}`, id, secret, flag, stamp)
	}
	auth := func(user string, flag int) string {
		list := fmt.Sprintf(`[{"userName":%q,"name":"User","orgCode":"dep-1","role":"user","enable":"true"}]`, user)
		if flag == 0 || flag == 3 {
			list = fmt.Sprintf(`[{"userName":%q}]`, user)
		}
		return fmt.Sprintf(`{"instanceId":"ki","tenantId":"kt","appId":"ka","userList":%s,"flag":%d,"testFlag":"1","currentSyncTime":"20220420114117642",%s}`, list, flag, stamp)
	}
	org := func(code string, flag int) string {
		return fmt.Sprintf(`{"instanceId":"ki","tenantId":"kt","orgCode":%q,"orgName":"Sales","parentCode":"","flag":%d,"testFlag":0,%s}`, code, flag, stamp)
	}
	orgs := func(code string) string {
		return fmt.Sprintf(`{"instanceId":"ki","tenantId":"kt","orgInfoList":[{"orgCode":%q,"orgName":"Sales","parentCode":"root"}],"flag":1,"testFlag":0,%s}`, code, stamp)
	}
	send := func(iface, body string, t Twin) Call {
		return c.call(handlers[iface], KitKey, endpoint.KitHeaders, body, t)
	}
	// fresh: a row of the call's own, new to the store.
	fresh := func(iface, prefix string, body func(id string, flag int) string) func(ctx context.Context, i int) (Call, error) {
		return func(ctx context.Context, i int) (Call, error) {
			id, twin := c.pair(prefix)
			var t Twin
			t.str(id, twin)
			return send(iface, body(id, 1), t), nil
		}
	}
	// stored: a row of the call's own and one for its twin, both stored first
	// (a change of a row the calls shared would find it as the last call left it,
	// and its floor, sent again with the same values, would change nothing).
	stored := func(iface, prefix string, flag int, body func(id string, flag int) string) func(ctx context.Context, i int) (Call, error) {
		return func(ctx context.Context, i int) (Call, error) {
			id, twin := c.pair(prefix)
			for _, x := range []string{id, twin} {
				if err := c.kitAdd(ctx, handlers[iface], body(x, 1)); err != nil {
					return Call{}, err
				}
			}
			var t Twin
			t.str(id, twin)
			return send(iface, body(id, flag), t), nil
		}
	}
	functions := map[string]string{"tenantSync": "kit-tenant-sync", "applicationSync": "kit-application-sync",
		"authSync": "kit-auth-sync", "singleOrgSync": "kit-single-org-sync", "allOrgSync": "kit-all-org-sync"}
	activity := func(name string, prepare func(ctx context.Context, i int) (Call, error)) Activity {
		iface, _, _ := strings.Cut(strings.ReplaceAll(name, ",", " "), " ")
		return Activity{Family: functions[iface], Name: name, Want: string(marketplace.Success), Trips: 2, Prepare: prepare}
	}
	list := []Activity{
		activity("tenantSync add", fresh("tenantSync", "KT", tenant)),
		activity("tenantSync modify", stored("tenantSync", "KT", 2, tenant)),
		activity("tenantSync delete", stored("tenantSync", "KT", 0, tenant)),
		activity("applicationSync add", fresh("applicationSync", "KA", app)),
		activity("applicationSync modify", stored("applicationSync", "KA", 2, app)),
		activity("applicationSync delete", stored("applicationSync", "KA", 0, app)),
		activity("authSync add, 1 user", fresh("authSync", "KU", auth)),
		activity("authSync modify, 1 user", stored("authSync", "KU", 2, auth)),
		activity("authSync revoke, 1 user", stored("authSync", "KU", 3, auth)),
		activity("authSync delete, 1 user", stored("authSync", "KU", 0, auth)),
		activity("singleOrgSync add", fresh("singleOrgSync", "KO", org)),
		activity("singleOrgSync modify", stored("singleOrgSync", "KO", 2, org)),
		activity("singleOrgSync delete", stored("singleOrgSync", "KO", 0, org)),
		activity("allOrgSync, 1 department", fresh("allOrgSync", "KD", func(id string, _ int) string { return orgs(id) })),
	}
	stmts := map[string]int{
		"tenantSync add": 2, "tenantSync modify": 2, "tenantSync delete": 8,
		"applicationSync add": 2, "applicationSync modify": 2, "applicationSync delete": 5,
		"authSync add, 1 user": 2, "authSync modify, 1 user": 2, "authSync revoke, 1 user": 5, "authSync delete, 1 user": 5,
		"singleOrgSync add": 2, "singleOrgSync modify": 2, "singleOrgSync delete": 2, "allOrgSync, 1 department": 2,
	}
	for i := range list {
		list[i].Statements = stmts[list[i].Name]
	}
	return list
}

// kitHandlers are the five Kit functions' handlers over the catalogue's store, by
// interface, made once.
func (c *Catalogue) kitHandlers() map[string]fgruntime.Handler {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.kitByName != nil {
		return c.kitByName
	}
	key, err := KitRSAKey()
	if err != nil {
		panic(fmt.Sprintf("rtbench: RSA key: %v", err))
	}
	dataKey, _ := secretbox.NewKey()
	box, err := secretbox.New(dataKey)
	if err != nil {
		panic(fmt.Sprintf("rtbench: data key: %v", err))
	}
	svc := &kit.Service{Store: c.st(), Secrets: clientsecret.NewFromKeys(key), Box: box}
	c.kitByName = map[string]fgruntime.Handler{}
	for name, dec := range map[string]endpoint.Decoder{
		"tenantSync": svc.DecodeTenantSync, "applicationSync": svc.DecodeApplicationSync, "authSync": svc.DecodeAuthSync,
		"singleOrgSync": svc.DecodeSingleOrgSync, "allOrgSync": svc.DecodeAllOrgSync,
	} {
		c.kitByName[name] = c.endpointHandler("kit", KitKey, endpoint.KitHeaders, dec)
	}
	return c.kitByName
}

// KitCall prepares a call of the Kit interface iface (tenantSync, applicationSync,
// authSync, singleOrgSync, allOrgSync) with body, signed with KitKey, through its
// function's handler (the production budget), with the twin its floor uses.
func (c *Catalogue) KitCall(iface, body string, twin Twin) Call {
	return c.call(c.kitHandlers()[iface], KitKey, endpoint.KitHeaders, body, twin)
}

// kitAdd stores a Kit row through the handler, as the marketplace would.
func (c *Catalogue) kitAdd(ctx context.Context, h fgruntime.Handler, body string) error {
	call := c.call(h, KitKey, endpoint.KitHeaders, body, Twin{})
	if err := call.Run(ctx); err != nil {
		return err
	}
	code, err := call.Result()
	if err == nil && code != string(marketplace.Success) {
		err = fmt.Errorf("answered %s", code)
	}
	return err
}

// orders answers Query Order in the process, so that a job's figures are the
// database's and the worker's alone.
type orders struct{}

func (orders) QueryOrder(_ context.Context, orderID, orderLineID string) (*openapi.Order, error) {
	return &openapi.Order{
		OrderID: openapi.Text(orderID), OrderType: "NEW",
		OrderLine: []openapi.OrderLine{{
			OrderLineID: openapi.Text(orderLineID), ChargingMode: "PERIOD", PeriodType: "year", PeriodNumber: "1",
			ExpireTime:  "20351124023618",
			ProductInfo: []openapi.Product{{ProductID: "OFFI1", SKUCode: "sku-1", ProductName: "pro", LinearValue: "1"}},
		}},
		BuyerInfo: &openapi.Buyer{CustomerID: "customer", CustomerName: "Customer"},
	}, nil
}

// uploads accepts every license in the process.
type uploads struct{}

func (uploads) Upload(_ context.Context, eventID, fileName string, content []byte) (license.Uploaded, error) {
	return license.Uploaded{FileName: fileName, SHA256: "sha", AnswerCode: "MKT.0000"}, nil
}

// Runner is the worker's job runner over the catalogue's store, with every job
// family: the static provisioner, Query Order answered in the process, license
// documents signed and uploaded in the process.
func (c *Catalogue) Runner() *fulfil.Runner {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.runner == nil {
		st := c.st()
		signer := licensefile.NewSigner(ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)))
		c.runner = &fulfil.Runner{Store: st, Owner: "rtbench", Logger: quiet(), Handlers: fulfil.Merge(
			fulfil.Instances{Store: st, Provisioner: c.provisioner(), Orders: orders{}}.Handlers(),
			license.Jobs{Store: st, Signer: signer, Uploader: uploads{}, Features: map[string][]string{"*": {"basic"}}}.Handlers(),
			ordernotify.Jobs{Store: st, Orders: orders{}}.Handlers(),
		)}
	}
	return c.runner
}

// job prepares a run of the job that write stores, and of its twin's.
func (c *Catalogue) job(ctx context.Context, write func(id string) (int64, error), prefix string, extra func(t *Twin, id, twin string) error) (Call, error) {
	id, twin := c.pair(prefix)
	job, err := write(id)
	if err != nil {
		return Call{}, err
	}
	twinJob, err := write(twin)
	if err != nil {
		return Call{}, err
	}
	var t Twin
	t.str(id, twin)
	t.id(job, twinJob)
	if extra != nil {
		if err := extra(&t, id, twin); err != nil {
			return Call{}, err
		}
	}
	r := c.Runner()
	var out fulfil.Outcome
	return Call{
		Run: func(ctx context.Context) error {
			var err error
			out, err = r.Run(ctx, job)
			return err
		},
		Result: func() (string, error) { return string(out), nil },
		Twin:   t,
	}, nil
}

// Worker lists fulfil-worker's jobs, each run as the worker runs a job it was
// started for.
func (c *Catalogue) Worker() []Activity {
	const family = "fulfil-worker"
	st := c.st()
	return []Activity{{
		Family: family, Name: "provisioning job", Want: doneOutcome, Trips: 3, Statements: 4,
		Prepare: func(ctx context.Context, i int) (Call, error) {
			return c.job(ctx, func(id string) (int64, error) { return c.newInstance(ctx, id) }, "W", nil)
		},
	}, {
		Family: family, Name: "freeze notification job", Want: doneOutcome, Trips: 3, Statements: 4,
		Prepare: func(ctx context.Context, i int) (Call, error) {
			return c.job(ctx, func(id string) (int64, error) {
				if _, err := c.newInstance(ctx, id); err != nil {
					return 0, err
				}
				ch, err := st.SetStatus(ctx, id, marketplace.Frozen)
				return ch.JobID, err
			}, "W", nil)
		},
	}, {
		Family: family, Name: "order query job", Want: doneOutcome, Trips: 2, Statements: 7,
		Prepare: func(ctx context.Context, i int) (Call, error) {
			return c.job(ctx, func(id string) (int64, error) {
				_, job, err := st.RecordOrderNotice(ctx, id, id+"-1", true, ordernotify.JobQuery)
				return job, err
			}, "WO", nil)
		},
	}, {
		Family: family, Name: "license job", Want: doneOutcome, Trips: 5, Statements: 11,
		Prepare: func(ctx context.Context, i int) (Call, error) {
			instance, err := c.shared(ctx, family)
			if err != nil {
				return Call{}, err
			}
			licenses := map[string]int64{}
			return c.job(ctx, func(event string) (int64, error) {
				res, err := st.CreateLicense(ctx, store.License{EventID: event, InstanceID: instance, EffectiveTime: time.Now(), TestFlag: true}, 0, license.JobIssue)
				licenses[event] = res.License.ID
				return res.JobID, err
			}, "WL", func(t *Twin, id, twin string) error {
				t.id(licenses[id], licenses[twin])
				return nil
			})
		},
	}}
}
