// pg_connection.hpp: a thin RAII wrapper of one libpq connection: connect,
// run SQL (plain or prepared, text parameters), transactions, notifications.
// No ORM, no hidden retries.
//
// Failures are typed: a connection that cannot be made or was lost, and the
// SQLSTATEs that mean "try again" (class 08 connection, 40001 serialization,
// 40P01 deadlock, 57P01..57P03 shutdown), are Error(TempFail) carrying the
// server's message; any other SQL error is Error(Internal) with the SQLSTATE.
// One connection is used by one thread at a time.
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <string>
#include <vector>

namespace sealpost {

struct PgConnDeleter {
    void operator()(PGconn* c) const noexcept { PQfinish(c); }
};
struct PgResultDeleter {
    void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using PgResultPtr = std::unique_ptr<PGresult, PgResultDeleter>;

// A result: rows of text values.
class PgResult {
public:
    explicit PgResult(PgResultPtr r) : r_(std::move(r)) {}
    int rows() const { return PQntuples(r_.get()); }
    std::string value(int row, int col) const { return PQgetvalue(r_.get(), row, col); }
    bool is_null(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
    long affected() const;  // PQcmdTuples: rows an INSERT/UPDATE/DELETE touched

private:
    PgResultPtr r_;
};

class PgConnection {
public:
    // `conninfo`: a libpq connection string or URI; empty: the PG*
    // environment variables alone. Error(TempFail) when it cannot connect.
    explicit PgConnection(const std::string& conninfo);

    PGconn* raw() const { return conn_.get(); }
    bool ok() const { return PQstatus(conn_.get()) == CONNECTION_OK; }
    // "dbname@host:port" (never the password).
    std::string describe() const;

    PgResult exec(const std::string& sql);
    void prepare(const std::string& name, const std::string& sql);
    PgResult exec_prepared(const std::string& name, const std::vector<std::string>& params);

    // BEGIN at construction, ROLLBACK at destruction unless commit() ran.
    class Transaction {
    public:
        explicit Transaction(PgConnection& c, const char* begin = "BEGIN");
        ~Transaction();
        void commit();
        Transaction(const Transaction&) = delete;
        Transaction& operator=(const Transaction&) = delete;

    private:
        PgConnection& c_;
        bool done_ = false;
    };

private:
    PgResult check(PGresult* r, const std::string& what);
    std::unique_ptr<PGconn, PgConnDeleter> conn_;
};

}  // namespace sealpost
