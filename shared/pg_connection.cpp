// pg_connection.cpp: libpq calls, results checked, errors typed.
#include "pg_connection.hpp"

#include <cstdlib>
#include <cstring>

#include "errors.hpp"
#include "log.hpp"

namespace sealpost {
namespace {

std::string trimmed(const char* s) {
    std::string out = s ? s : "";
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return out;
}

bool transient_sqlstate(const std::string& state) {
    return state.rfind("08", 0) == 0 || state == "40001" || state == "40P01" || state == "57P01" ||
           state == "57P02" || state == "57P03";
}

}  // namespace

long PgResult::affected() const {
    const char* n = PQcmdTuples(r_.get());
    return n && *n ? std::strtol(n, nullptr, 10) : 0;
}

PgConnection::PgConnection(const std::string& conninfo) {
    // dbname last: what the connection string itself sets wins.
    const char* keys[] = {"connect_timeout", "application_name", "dbname", nullptr};
    const char* values[] = {"10", "sealpost", conninfo.c_str(), nullptr};
    conn_.reset(PQconnectdbParams(keys, values, /*expand_dbname=*/1));
    if (!conn_) fail(ErrorKind::TempFail, "store: postgres: cannot connect: out of memory");
    if (PQstatus(conn_.get()) != CONNECTION_OK)
        fail(ErrorKind::TempFail, "store: postgres: cannot connect: " + trimmed(PQerrorMessage(conn_.get())));
    // Notices (e.g. "relation already exists, skipping") are not our log's business.
    PQsetNoticeProcessor(conn_.get(), [](void*, const char*) {}, nullptr);
}

std::string PgConnection::describe() const {
    std::string host = trimmed(PQhost(conn_.get()));
    return trimmed(PQdb(conn_.get())) + "@" + (host.empty() ? "local" : host) + ":" + trimmed(PQport(conn_.get()));
}

PgResult PgConnection::check(PGresult* raw, const std::string& what) {
    PgResultPtr r(raw);
    auto status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return PgResult(std::move(r));
    std::string state = r ? trimmed(PQresultErrorField(r.get(), PG_DIAG_SQLSTATE)) : "";
    std::string message = r ? trimmed(PQresultErrorMessage(r.get())) : "";
    if (message.empty()) message = trimmed(PQerrorMessage(conn_.get()));
    if (!ok() || transient_sqlstate(state) || state.empty())
        fail(ErrorKind::TempFail, "store: postgres: " + what + ": " + message);
    fail(ErrorKind::Internal, "store: postgres: " + what + ": " + message + " (SQLSTATE " + state + ")");
}

PgResult PgConnection::exec(const std::string& sql) { return check(PQexec(conn_.get(), sql.c_str()), "query"); }

void PgConnection::prepare(const std::string& name, const std::string& sql) {
    check(PQprepare(conn_.get(), name.c_str(), sql.c_str(), 0, nullptr), "prepare " + name);
}

PgResult PgConnection::exec_prepared(const std::string& name, const std::vector<std::string>& params) {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) values.push_back(p.c_str());
    return check(PQexecPrepared(conn_.get(), name.c_str(), static_cast<int>(values.size()), values.data(), nullptr,
                                nullptr, 0),
                 name);
}

PgConnection::Transaction::Transaction(PgConnection& c, const char* begin) : c_(c) { c_.exec(begin); }

PgConnection::Transaction::~Transaction() {
    if (done_ || !c_.ok()) return;
    PgResultPtr r(PQexec(c_.raw(), "ROLLBACK"));
}

void PgConnection::Transaction::commit() {
    c_.exec("COMMIT");
    done_ = true;
}

}  // namespace sealpost
