// ipvsadm -S and -R: the rules -S writes are the ones -R reads back into the same
// configuration, -R applies all of its rules or none, and names the first bad line.
#include <catch2/catch.hpp>

#include "codec/config_json.hpp"
#include "helpers.hpp"
#include "tools/dplbadm/format.hpp"
#include "tools/dplbadm/restore.hpp"

using namespace dplb;
using namespace dplb::dplbadm;

TEST_CASE("-S writes ipvsadm-save's rules, with dplb's extensions first and after each -A") {
    CHECK(format_save(test::every_feature()) ==
          "--set 800 100 200\n"
          "--add-mark -f 66 -t 192.168.0.200:80\n"
          "--add-mark -f 66 -t 192.168.0.200:443\n"
          "--add-mark -f 66 -u 192.168.0.200:8000-8100\n"
          "--add-mark -f 67 -u 10.0.0.9:53\n"
          "-A -t 10.0.0.1:80 -s sh -b sh-fallback,sh-port\n"
          "--set 60 0 30 -t 10.0.0.1:80\n"
          "-a -t 10.0.0.1:80 -r 10.1.1.1:8080 -m -w 3 -x 100 -y 10\n"
          "-a -t 10.0.0.1:80 -r 10.1.1.2:80 -g -w 0\n"
          "-a -t 10.0.0.1:80 -r 10.2.0.1:80 -i -w 2\n"
          "-A -t 10.0.0.1:443 -s mh -b mh-port --mh-table-size 131071\n"
          "--add-laddr -z 192.168.100.200 -t 10.0.0.1:443\n"
          "--add-laddr -z 192.168.100.201 -t 10.0.0.1:443\n"
          "-a -t 10.0.0.1:443 -r 10.1.1.1:443 -b -w 1\n"
          "-a -t 10.0.0.1:443 -r 10.1.1.3:8443 -m -w 1\n"
          "-A -t 10.0.0.2:0 -s wlc -p 3600\n"
          "-a -t 10.0.0.2:0 -r 10.1.1.5:0 -g -w 1\n"
          "-a -t 10.0.0.2:0 -r 10.1.1.6:8080 -m -w 1\n"
          "-A -u 10.0.0.53:53 -s lc --expire-nodest-conn\n"
          "-a -u 10.0.0.53:53 -r 10.1.1.7:53 -m -w 1\n"
          "-A -f 66 -s rr -p 600 -M 255.255.255.0\n"
          "-a -f 66 -r 192.168.0.10:0 -g -w 1\n"
          "-a -f 66 -r 192.168.0.20:0 -g -w 1\n"
          "-A -f 67 -s wrr\n"
          "-a -f 67 -r 10.1.1.8:5353 -m -w 5\n");
}

TEST_CASE("-S output parsed back by -R into the same configuration") {
    config::Config c = test::every_feature();
    auto back = restore(config::Config{}, format_save(c));
    if (!back.ok()) FAIL(back.error().str());
    CHECK(*back == c);
    // Whatever order the configuration had, -S --nosort gives it back exactly.
    std::swap(c.services[0], c.services[5]);
    std::swap(c.services[1].reals[0], c.services[1].reals[1]);
    auto exact = restore(config::Config{}, format_save(c, false));
    REQUIRE(exact.ok());
    CHECK(*exact == c);
    // The seed's NAT lab: ipvsadm-save's own text.
    auto seed = restore(config::Config{}, "-A -t 192.168.227.128:80 -s rr\n"
                                          "-a -t 192.168.227.128:80 -r 192.168.253.143:80 -m -w 1\n"
                                          "-a -t 192.168.227.128:80 -r 192.168.253.144:80 -m -w 1\n");
    REQUIRE(seed.ok());
    CHECK(*seed == test::nat_lab());
    // -C, then -R of what -S saved: the same table again.
    auto again = restore(*back, "-C\n" + format_save(*back));
    REQUIRE(again.ok());
    CHECK(*again == *back);
}

TEST_CASE("-R is all or nothing and names the first bad line") {
    config::Config current = test::nat_lab();
    struct Case {
        std::string text;
        std::string error;
    };
    Case cases[] = {
        {"-A -t 10.0.0.1:80 -s rr\n-A -t 10.0.0.1:80 -s rrr\n-A -t 10.0.0.2:80 -s rr\n",
         "line 2: service.scheduler: unknown scheduler 'rrr' (expected one of: rr, wrr, lc, wlc, lblc, lblcr, dh, sh, "
         "sed, nq, fo, ovf, mh)"},
        {"# saved\n\n-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.1.1.1:8080 -g\n",
         "line 4: real_server.port: dr cannot change the port: the real server must use the service's port 80, not "
         "8080"},
        {"-A -t 10.0.0.1:80 -s rr\n-L -n\n", "line 2: '-L' does not change the configuration, so it cannot be restored"},
        {"-A -t 10.0.0.300:80\n", "line 1: invalid service address '10.0.0.300:80': '10.0.0.300' is not a dotted-quad "
                                  "IPv4 address"},
        {"-A -t 192.168.227.128:80 -s rr\n", "line 1: service: service tcp 192.168.227.128:80 already exists"},
        {"-Z\n", "line 1: '-Z' does not change the configuration, so it cannot be restored"},
        {"--add-mark -f 66 -t 192.168.227.128:80\n",
         "line 1: port_group.matches[0]: tcp 192.168.227.128:80 takes the packets of service tcp 192.168.227.128:80; "
         "a packet can belong to one service only"},
    };
    for (const auto& c : cases) {
        INFO(c.text);
        auto r = restore(current, c.text);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().str() == c.error);
    }
    // A leading program name is allowed, as in scripts; quotes and comments too.
    auto ok = restore(current, "ipvsadm -A -t 10.0.0.1:80 -s 'rr' # web\n  dplbadm -a -t \"10.0.0.1:80\" -r 10.1.1.1 -m\n");
    REQUIRE(ok.ok());
    CHECK(ok->services.size() == 2);
    CHECK(ok->services[1].reals[0].forward == config::ForwardMethod::nat);
    CHECK(restore(current, "")->services.size() == 1);
}

TEST_CASE("rule lines split as ipvsadm's config_stream splits them") {
    CHECK(split_rule_line("  -A\t-t 10.0.0.1:80  -s rr \r") ==
          std::vector<std::string>{"-A", "-t", "10.0.0.1:80", "-s", "rr"});
    CHECK(split_rule_line("-A -t '10.0.0.1:80' -s\"rr\"") ==
          std::vector<std::string>{"-A", "-t", "10.0.0.1:80", "-srr"});
    CHECK(split_rule_line("# all of it").empty());
    CHECK(split_rule_line("-C # clear") == std::vector<std::string>{"-C"});
    CHECK(split_rule_line("").empty());
}
