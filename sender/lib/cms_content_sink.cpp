// cms_content_sink.cpp: a source/sink BIO method around a function.
#include "cms_content_sink.hpp"

#include <exception>
#include <memory>

#include "errors.hpp"

namespace sealpost {
namespace {

struct SinkState {
    const ContentTaker* take;
    std::exception_ptr failure;
};

int sink_write(BIO* b, const char* data, int len) {
    auto* st = static_cast<SinkState*>(BIO_get_data(b));
    if (!st || len < 0 || st->failure) return -1;
    try {
        (*st->take)(std::string_view(data, static_cast<std::size_t>(len)));
    } catch (...) {
        // Never through OpenSSL's C frames: kept, and the write fails.
        st->failure = std::current_exception();
        return -1;
    }
    return len;
}

long sink_ctrl(BIO*, int cmd, long, void*) {
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;  // nothing is buffered here
}

int sink_create(BIO* b) {
    BIO_set_init(b, 1);
    return 1;
}

int sink_destroy(BIO* b) {
    delete static_cast<SinkState*>(BIO_get_data(b));
    BIO_set_data(b, nullptr);
    return 1;
}

const BIO_METHOD* sink_method() {
    static BIO_METHOD* method = [] {
        BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "sealpost content sink");
        if (!m || !BIO_meth_set_write(m, sink_write) || !BIO_meth_set_ctrl(m, sink_ctrl) ||
            !BIO_meth_set_create(m, sink_create) || !BIO_meth_set_destroy(m, sink_destroy))
            fail_openssl("cms: cannot make the content sink");
        return m;
    }();
    return method;
}

}  // namespace

BIO* new_content_sink(const ContentTaker& take) {
    auto state = std::make_unique<SinkState>(SinkState{&take, nullptr});
    BIO* b = BIO_new(sink_method());
    if (!b) fail_openssl("cms: cannot make the content sink");
    BIO_set_data(b, state.release());
    return b;
}

void rethrow_sink_failure(BIO* sink) {
    auto* st = sink ? static_cast<SinkState*>(BIO_get_data(sink)) : nullptr;
    if (st && st->failure) std::rethrow_exception(st->failure);
}

}  // namespace sealpost
