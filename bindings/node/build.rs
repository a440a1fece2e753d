//! Links the addon against the Node-API symbols (napi-build).
fn main() {
    napi_build::setup();
}
