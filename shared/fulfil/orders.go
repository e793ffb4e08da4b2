package fulfil

import (
	"database/sql"
	"encoding/json"
	"time"

	"github.com/kgseller/kgseller/shared/openapi"
	"github.com/kgseller/kgseller/shared/store"
)

// OrderDetailsOf extracts the details of one line of a Query Order answer (the
// first line when orderLineID is empty or absent from the answer).
func OrderDetailsOf(o *openapi.Order, orderLineID string) store.OrderDetails {
	d := store.OrderDetails{OrderID: string(o.OrderID), OrderLineID: orderLineID, OrderType: string(o.OrderType)}
	line, ok := o.Line(orderLineID)
	if !ok {
		line, ok = o.Line("")
	}
	if ok {
		if d.OrderLineID == "" {
			d.OrderLineID = string(line.OrderLineID)
		}
		d.ChargingMode, d.PeriodType, d.PeriodNumber = string(line.ChargingMode), string(line.PeriodType), string(line.PeriodNumber)
		if t, err := time.ParseInLocation("20060102150405", string(line.ExpireTime), time.UTC); err == nil {
			d.ExpireTime = sql.NullTime{Time: t, Valid: true}
		}
		if len(line.ProductInfo) > 0 {
			p := line.ProductInfo[0]
			d.ProductID, d.SKUCode, d.ProductName, d.LinearValue = string(p.ProductID), string(p.SKUCode), string(p.ProductName), string(p.LinearValue)
		}
	}
	if o.BuyerInfo != nil {
		d.CustomerID, d.CustomerName = string(o.BuyerInfo.CustomerID), string(o.BuyerInfo.CustomerName)
	}
	if raw, err := json.Marshal(o); err == nil {
		d.OrderJSON = sql.NullString{String: string(raw), Valid: true}
	}
	return d
}
