// transport_select.cpp: the backend named by config.
#include "transport.hpp"

namespace sealpost {

std::unique_ptr<Transport> make_transport(const Config& config, bool batch) {
    if (auto smtp = config.get("relay", "smtp"); smtp && !smtp->empty()) return make_smtp_transport(config);
    if (auto api = config.get("relay", "api"); api && !api->empty()) return make_api_transport(config);
    if (auto dir = config.get("relay", "out-dir"); dir && !dir->empty())
        return make_outbox_transport(*dir, config.get_bool("relay", "durable", true), batch);
    return make_stdout_transport();
}

}  // namespace sealpost
