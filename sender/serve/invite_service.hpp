// invite_service.hpp: issue 13 inside `serve`: the background task that
// sends due invitations every [invite] run-every (first right after start),
// the confirmation the collector plugin triggers through
// Host::certificate_collected ([invite] confirm = yes; run on the host's
// workers, never the plugin's thread), and the WantedRecorder the send
// pipeline records recipients without a certificate into. Each run and
// each confirmation makes a transport of its own from the configuration.
// Everything is checked at construction (exit 78 at start).
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "config.hpp"
#include "invitations.hpp"
#include "wanted_recorder.hpp"

namespace sealpost {

class InviteService {
public:
    // nullptr when neither [invite] enabled nor confirm is yes.
    static std::unique_ptr<InviteService> make(const Config& config, CertStore& store,
                                               std::shared_ptr<const RecipientPolicy> policy);
    ~InviteService();

    std::shared_ptr<WantedRecorder> recorder() const { return recorder_; }
    void start();  // the background thread (when enabled)
    void stop();   // waits for a run in progress
    void collected(const std::string& address, const boost::asio::any_io_executor& workers);

    InviteService(const Config& config, CertStore& store, std::shared_ptr<const RecipientPolicy> policy,
                  InviteOptions options);

private:
    void loop();
    void run_once();

    const Config& config_;
    CertStore& store_;
    std::unique_ptr<IdentityStore> identities_;
    std::unique_ptr<Inviter> inviter_;
    std::shared_ptr<WantedRecorder> recorder_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool stop_ = false;
    std::thread thread_;
};

}  // namespace sealpost
