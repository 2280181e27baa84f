#include "tools/dplbadm/restore.hpp"

#include "control/api/mutations.hpp"
#include "model/config_editor.hpp"
#include "tools/dplbadm/args.hpp"

namespace dplb::dplbadm {

using model::Error;

namespace {

struct Rule {
    std::size_t line;
    nlohmann::json request;
};

Error at(std::size_t line, const Error& e) { return Error{"", "line " + std::to_string(line) + ": " + e.str()}; }

model::Result<std::vector<Rule>> parse_rules(std::string_view text) {
    std::vector<Rule> rules;
    std::size_t number = 0;
    while (!text.empty()) {
        auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        ++number;
        auto words = split_rule_line(line);
        if (!words.empty() && (words[0] == "ipvsadm" || words[0] == "dplbadm")) words.erase(words.begin());
        if (words.empty()) continue;
        auto inv = parse_args(words);
        if (!inv) return at(number, inv.error());
        if (inv->output != Output::ack || !api::is_mutation(inv->request.value("cmd", "")))
            return at(number, Error{"", "'" + words[0] + "' does not change the configuration, so it cannot be restored"});
        rules.push_back({number, std::move(inv->request)});
    }
    return rules;
}

}  // namespace

std::vector<std::string> split_rule_line(std::string_view line) {
    std::vector<std::string> words;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
        if (i == line.size() || line[i] == '#') break;
        std::string word;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') {
            char q = line[i];
            if (q == '"' || q == '\'') {
                auto end = line.find(q, i + 1);
                if (end == std::string_view::npos) end = line.size();
                word.append(line.substr(i + 1, end - i - 1));
                i = end == line.size() ? end : end + 1;
            } else {
                word.push_back(q);
                ++i;
            }
        }
        words.push_back(std::move(word));
    }
    return words;
}

model::Result<config::Config> restore(const config::Config& current, std::string_view text) {
    auto rules = parse_rules(text);
    if (!rules) return rules.error();
    // One editor for the whole restore: each line is checked against what the lines before
    // it built, through the editor's indexes (thousands of rules stay linear in total).
    model::ConfigEditor editor(current);
    for (const Rule& r : *rules) {
        auto change = api::decode_change(editor, r.request);
        if (!change) return at(r.line, change.error());
        if (auto e = editor.apply(*change)) return at(r.line, *e);
    }
    return editor.config();
}

}  // namespace dplb::dplbadm
