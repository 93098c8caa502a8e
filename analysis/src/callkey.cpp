#include "callkey.h"

namespace tapedeck::analysis {

using nlohmann::json;

namespace {

bool isSpace(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string folded(const std::string &text, bool firstLineOnly)
{
    std::string_view view(text);
    if (firstLineOnly) {
        // The first line that holds anything: a command may start with a newline.
        size_t start = 0;
        while (start < view.size()) {
            const size_t end = view.find('\n', start);
            const std::string_view line = view.substr(start, end == std::string_view::npos ? end : end - start);
            if (line.find_first_not_of(" \t\r") != std::string_view::npos) {
                view = line;
                break;
            }
            if (end == std::string_view::npos)
                break;
            start = end + 1;
        }
    }
    std::string out;
    out.reserve(view.size());
    bool space = false;
    for (char c : view) {
        if (isSpace(c)) {
            space = !out.empty();
            continue;
        }
        if (space)
            out.push_back(' ');
        space = false;
        out.push_back(c);
    }
    return out;
}

json normalised(const json &value, bool firstLines)
{
    if (value.is_string())
        return folded(value.get_ref<const std::string &>(), firstLines);
    if (value.is_object()) {
        json out = json::object();
        for (auto it = value.begin(); it != value.end(); ++it)
            out[it.key()] = normalised(it.value(), firstLines);
        return out;
    }
    if (value.is_array()) {
        json out = json::array();
        for (const json &item : value)
            out.push_back(normalised(item, firstLines));
        return out;
    }
    return value;
}

std::string dumped(const json &value)
{
    return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace

std::string exactCallKey(const std::string &tool, const json &arguments)
{
    return tool + ' ' + dumped(normalised(arguments, false));
}

std::string looseCallKey(const std::string &tool, const json &arguments)
{
    return tool + ' ' + dumped(normalised(arguments, true));
}

std::string callLabel(const std::string &tool, const json &arguments, size_t width)
{
    const json loose = normalised(arguments, true);
    std::string args;
    if (loose.is_object() && loose.size() == 1 && loose.begin()->is_string())
        args = loose.begin()->get<std::string>();
    else if (!loose.is_null() && !(loose.is_object() && loose.empty()))
        args = dumped(loose);
    std::string label = args.empty() ? tool : tool + ' ' + args;
    if (label.size() > width) {
        size_t cut = width;
        while (cut > 0 && (static_cast<unsigned char>(label[cut]) & 0xC0) == 0x80)
            --cut; // not inside a UTF-8 sequence
        label = label.substr(0, cut) + "…";
    }
    return label;
}

} // namespace tapedeck::analysis
