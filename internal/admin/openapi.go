package admin

import (
	_ "embed"
	"net/http"
)

// openAPIDoc is the OpenAPI 3.1 description of the API; TestOpenAPI keeps
// it true to the registered routes.
//
//go:embed openapi.json
var openAPIDoc []byte

func (a *API) handleOpenAPI(w http.ResponseWriter, r *http.Request, _ *Principal) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(openAPIDoc)
}
