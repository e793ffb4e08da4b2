package openapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// QueryOrderPath is the Query Order open API.
const QueryOrderPath = "/api/mkp-openapi-public/global/v1/order/query"

// Text is a scalar that the marketplace may send as a string, a number, a boolean
// or null; it is kept as text so that nothing is lost to a type change.
type Text string

// UnmarshalJSON accepts any JSON scalar.
func (t *Text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*t = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = Text(s)
	case b[0] == '{' || b[0] == '[':
		return fmt.Errorf("openapi: expected a scalar, got %.20s", b)
	default:
		*t = Text(b)
	}
	return nil
}

// Param is a name/value extension parameter.
type Param struct {
	Name  Text `json:"name"`
	Value Text `json:"value"`
}

// Product is one product of an order line.
type Product struct {
	ProductID   Text `json:"productId"`
	SKUCode     Text `json:"skuCode"`
	LinearValue Text `json:"linearValue"`
	ProductName Text `json:"productName"`
}

// OrderLine is one line of an order.
type OrderLine struct {
	OrderLineID           Text      `json:"orderLineId"`
	ChargingMode          Text      `json:"chargingMode"` // ON_DEMAND, ONE_TIME, PERIOD, ON_DEMAND_PKG
	PeriodType            Text      `json:"periodType"`
	PeriodNumber          Text      `json:"periodNumber"`
	ExpireTime            Text      `json:"expireTime"`
	ProductInfo           []Product `json:"productInfo"`
	ExtendParams          []Param   `json:"extendParams"`
	Currency              Text      `json:"currency"`
	CurrencyAfterDiscount Text      `json:"currencyAfterDiscount"`
}

// Buyer is the buyer of an order.
type Buyer struct {
	CustomerID       Text `json:"customerId"`
	CustomerName     Text `json:"customerName"`
	CustomerRealName Text `json:"customerRealName"`
	CustomerType     Text `json:"customerType"`
	UserID           Text `json:"userId"`
	UserName         Text `json:"userName"`
	MobilePhone      Text `json:"mobilePhone"`
	Email            Text `json:"email"`
}

// Order is the orderInfo of Query Order.
type Order struct {
	OrderID      Text        `json:"orderId"`
	OrderType    Text        `json:"orderType"` // NEW, TRIAL, TRIAL_TO_FORMAL, UNSUBSCRIBE, RENEW, CHANGE
	CreateTime   Text        `json:"createTime"`
	OrderLine    []OrderLine `json:"orderLine"`
	BuyerInfo    *Buyer      `json:"buyerInfo"`
	ExtendParams []Param     `json:"extendParams"`
}

// Line returns the order line with the given ID, or the first line when id is
// empty.
func (o *Order) Line(id string) (*OrderLine, bool) {
	for i := range o.OrderLine {
		if id == "" || string(o.OrderLine[i].OrderLineID) == id {
			return &o.OrderLine[i], true
		}
	}
	return nil, false
}

// QueryOrder calls Query Order. orderLineID may be empty.
func (c *Client) QueryOrder(ctx context.Context, orderID, orderLineID string) (*Order, error) {
	if orderID == "" {
		return nil, fmt.Errorf("openapi: QueryOrder needs an orderId")
	}
	q := url.Values{"orderId": {orderID}}
	if orderLineID != "" {
		q.Set("orderLineId", orderLineID)
	}
	var out struct {
		OrderInfo *Order `json:"orderInfo"`
	}
	if err := c.Do(ctx, Call{Method: http.MethodGet, Path: QueryOrderPath, Query: q}, &out); err != nil {
		return nil, err
	}
	if out.OrderInfo == nil {
		return nil, &APIError{Status: http.StatusOK, ResultCode: SuccessCode, ResultMsg: "answer has no orderInfo"}
	}
	if out.OrderInfo.OrderID != "" && string(out.OrderInfo.OrderID) != orderID {
		return nil, fmt.Errorf("openapi: asked for order %s, got %s", orderID, out.OrderInfo.OrderID)
	}
	return out.OrderInfo, nil
}
