// Package produce implements the SaaS basic interfaces (docs/protocol.md#saas-basic): one
// production URL, POST JSON, the scenario chosen by the body's activity field.
package saas

import (
	"strings"

	"github.com/kgseller/kgseller/shared/endpoint"
	"github.com/kgseller/kgseller/shared/marketplace"
	"github.com/kgseller/kgseller/shared/reqbody"
)

// Field lengths from the tables of docs/protocol.md#saas-basic.
const (
	lenID        = 64
	lenScene     = 64
	lenStatus    = 32
	lenExpire    = 20
	maxQueryIDs  = 100
	lenActivity  = 32 // 20 on some tables, 32 on others: the larger is accepted
	lenProdName  = 64
	lenLinear    = 32 // the column that keeps a quantity from Query Order has 32
	queryIDsText = maxQueryIDs * (lenID + 1)
)

var bad = reqbody.Bad

// Decode validates a verified body and returns the operation for its activity.
func (s *Service) Decode(body []byte) (endpoint.Operation, error) {
	o, act, err := reqbody.ParseActivity(body, lenActivity)
	if err != nil {
		return nil, err
	}
	activity, test := act.Name, act.Test
	switch activity {
	case "newInstance":
		return s.decodeNew(o, test)
	case "queryInstance":
		return s.decodeQuery(o)
	case "refreshInstance":
		return s.decodeRefresh(o)
	case "updateInstanceStatus":
		return s.decodeStatus(o)
	case "releaseInstance":
		return s.decodeRelease(o)
	case "upgradeInstance":
		return s.decodeUpgrade(o)
	case "changeInstanceCheck":
		return s.decodeChangeCheck(o)
	}
	return nil, bad("unknown activity %q", marketplace.Clip(activity, 32))
}

// ids reads several required identifiers at once.
func ids(o reqbody.Object, names ...string) ([]string, error) {
	out := make([]string, len(names))
	for i, n := range names {
		v, err := o.ID(n, lenID, true)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func (s *Service) decodeNew(o reqbody.Object, test bool) (endpoint.Operation, error) {
	v, err := ids(o, "orderId", "orderLineId", "businessId")
	if err != nil {
		return nil, err
	}
	return &newInstanceOp{s: s, orderID: v[0], orderLineID: v[1], businessID: v[2], test: test}, nil
}

func (s *Service) decodeQuery(o reqbody.Object) (endpoint.Operation, error) {
	// The table gives the field 100 characters, but it carries up to 100 IDs of up to
	// 64 characters each; the per-ID limits are what is enforced.
	list, err := o.String("instanceId", queryIDsText, true)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var idList []string
	for _, part := range strings.Split(list, ",") {
		id := strings.TrimSpace(part)
		if id == "" {
			continue
		}
		if len([]rune(id)) > lenID || !reqbody.ValidID(id) {
			return nil, bad("instanceId %q is not a valid instance ID", marketplace.Clip(id, 70))
		}
		if !seen[id] {
			seen[id] = true
			idList = append(idList, id)
		}
	}
	if len(idList) == 0 {
		return nil, bad("instanceId is required")
	}
	if len(idList) > maxQueryIDs {
		return nil, bad("instanceId lists %d IDs; at most %d are allowed", len(idList), maxQueryIDs)
	}
	return &queryInstanceOp{s: s, ids: idList}, nil
}

func (s *Service) decodeRefresh(o reqbody.Object) (endpoint.Operation, error) {
	v, err := ids(o, "orderId", "orderLineId", "instanceId")
	if err != nil {
		return nil, err
	}
	scene, err := o.ID("scene", lenScene, true)
	if err != nil {
		return nil, err
	}
	productID, err := o.ID("productId", lenID, false)
	if err != nil {
		return nil, err
	}
	exp, err := o.String("expireTime", lenExpire, true)
	if err != nil {
		return nil, err
	}
	t, err := reqbody.ParseExpireTime(exp)
	if err != nil {
		return nil, err
	}
	return &refreshOp{s: s, orderID: v[0], orderLineID: v[1], instanceID: v[2], scene: scene, productID: productID, expire: t}, nil
}

func (s *Service) decodeStatus(o reqbody.Object) (endpoint.Operation, error) {
	id, err := o.ID("instanceId", lenID, true)
	if err != nil {
		return nil, err
	}
	status, err := o.String("status", lenStatus, true)
	if err != nil {
		return nil, err
	}
	var target marketplace.Status
	switch status {
	case "FREEZE":
		target = marketplace.Frozen
	case "UNFREEZE":
		target = marketplace.Normal
	default:
		return nil, bad("status must be FREEZE or UNFREEZE")
	}
	return &statusOp{s: s, instanceID: id, target: target}, nil
}

func (s *Service) decodeRelease(o reqbody.Object) (endpoint.Operation, error) {
	id, err := o.ID("instanceId", lenID, true)
	if err != nil {
		return nil, err
	}
	orderID, err := o.ID("orderId", lenID, false)
	if err != nil {
		return nil, err
	}
	lineID, err := o.ID("orderLineId", lenID, false)
	if err != nil {
		return nil, err
	}
	return &releaseOp{s: s, instanceID: id, orderID: orderID, orderLineID: lineID}, nil
}

func (s *Service) decodeUpgrade(o reqbody.Object) (endpoint.Operation, error) {
	v, err := ids(o, "instanceId", "orderId", "orderLineId")
	if err != nil {
		return nil, err
	}
	return &upgradeOp{s: s, instanceID: v[0], orderID: v[1], orderLineID: v[2]}, nil
}

func (s *Service) decodeChangeCheck(o reqbody.Object) (endpoint.Operation, error) {
	id, err := o.ID("instanceId", lenID, true)
	if err != nil {
		return nil, err
	}
	p, err := o.Object("productInfo", true)
	if err != nil {
		return nil, err
	}
	v, err := ids(p, "productId", "skuCode")
	if err != nil {
		return nil, err
	}
	name, err := p.String("productName", lenProdName, true)
	if err != nil {
		return nil, err
	}
	op := &changeCheckOp{s: s, instanceID: id}
	op.target.ProductID, op.target.SKUCode, op.target.ProductName = v[0], v[1], name
	// Documented as an integer; a decimal quantity is passed on as sent.
	if op.target.LinearValue, err = p.Number("linearValue", lenLinear, false); err != nil {
		return nil, err
	}
	return op, nil
}
