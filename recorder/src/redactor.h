// Keeps secrets out of the tape: secret headers become "<redacted>", and text that matches a
// user's pattern becomes "<redacted:HASH>", where HASH is derived from the text, so the same
// secret gives the same placeholder wherever it appears (and replay matching still works).
// Immutable after construction; safe to use from several threads.
#pragma once

#include <tapedeck/formats/tape.h>

#include <nlohmann/json.hpp>

#include <regex>
#include <string>
#include <utility>
#include <vector>

namespace tapedeck::recorder {

class Redactor {
public:
    // An error names the pattern that is not a valid regular expression.
    static formats::Result<Redactor> create(const std::vector<std::string> &extraHeaders,
                                            const std::vector<std::string> &patterns);

    bool isSecretHeader(const std::string &name) const; // any case
    // Header name -> value, names lowercased, secrets replaced, patterns applied to values.
    nlohmann::json headers(const std::vector<std::pair<std::string, std::string>> &headers) const;
    // `text` with every match of every pattern replaced by its placeholder.
    std::string text(const std::string &text) const;
    // The same for a body that arrived in pieces: `chunks` (whose lengths sum to the body's)
    // are re-cut to the redacted body, a placeholder going to the piece its match began in.
    // Redacting the whole body, not each piece, catches a secret that a read split in two.
    std::string text(const std::string &body, std::vector<formats::StreamChunk> &chunks) const;
    // Every string in `value` (not the keys), redacted in place.
    void strings(nlohmann::json &value) const;
    bool hasPatterns() const { return !m_patterns.empty(); }

private:
    std::vector<std::string> m_secretHeaders; // lowercased
    std::vector<std::regex> m_patterns;
};

} // namespace tapedeck::recorder
