// The log events of accepted changes (control/server/change_events.hpp), as lines.
#include <catch2/catch.hpp>

#include "control/server/change_events.hpp"

using namespace dplb;

namespace {

std::vector<std::string> lines(const model::Batch& b) {
    std::vector<std::string> out;
    for (const auto& e : server::change_events(b)) {
        CHECK(e.limited);  // a restore of many services is a flood
        out.push_back(log::format(e));
    }
    return out;
}

config::ServiceKey tcp(const char* vip, uint16_t port) {
    return config::ServiceKey{config::Protocol::tcp, *Ip4::parse(vip), port, 0};
}

}  // namespace

TEST_CASE("change events: one line per operator change, with the metrics' key names") {
    config::Service svc;
    svc.key = tcp("10.0.0.1", 80);
    svc.scheduler = config::Scheduler::rr;
    config::RealServer real;
    real.address = *Ip4::parse("192.168.1.11");
    real.port = 8080;
    real.weight = 3;
    real.forward = config::ForwardMethod::dr;
    config::ServiceKey mark{config::Protocol::udp, Ip4{}, 0, 7};
    model::Batch b;
    b.changes = {model::AddService{svc},
                 model::AddReal{svc.key, real},
                 model::DeleteReal{svc.key, real.address, 8080},
                 model::AddLocalAddress{svc.key, *Ip4::parse("10.9.0.1")},
                 model::DeleteService{mark},
                 model::SetRealHealth{svc.key, real.address, 8080, config::RealHealth::removed, {}},
                 model::Clear{}};
    CHECK(lines(b) == std::vector<std::string>{
                          "level=info event=service_added vip=10.0.0.1 port=80 proto=tcp scheduler=rr reals=0",
                          "level=info event=real_server_added vip=10.0.0.1 port=80 proto=tcp real=192.168.1.11 "
                          "real_port=8080 forward=dr weight=3",
                          "level=info event=real_server_deleted vip=10.0.0.1 port=80 proto=tcp real=192.168.1.11 "
                          "real_port=8080",
                          "level=info event=laddr_added vip=10.0.0.1 port=80 proto=tcp laddr=10.9.0.1",
                          "level=info event=service_deleted fwmark=7 proto=udp",
                          "level=notice event=config_cleared",
                      });
}
