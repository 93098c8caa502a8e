// The naive logger's file: what a proxy that simply wrote every exchange down would keep.
#pragma once

#include <tapedeck/formats/tape.h>

#include <cstdio>
#include <memory>
#include <string>

namespace tapedeck::samples {

// One JSON line per HTTP exchange:
//   {"ts":"<ISO time>","method":"POST","url":"/v1/chat/completions","status":200,
//    "request":<the request body, embedded as JSON>,"response":"<the SSE text, as a string>"}
// The request body is already JSON text and is copied in as it is, not parsed and dumped.
// This is the baseline gzip and zstd are measured against, so it holds every body in full.
class RawLog {
public:
    static formats::Result<std::unique_ptr<RawLog>> create(const std::string &path);
    ~RawLog();

    formats::Status write(int64_t atUs, const formats::WireExchange &exchange);
    formats::Status close();
    int64_t bytesWritten() const { return m_bytes; }

private:
    RawLog(std::FILE *file, std::string path);

    std::FILE *m_file;
    std::string m_path;
    std::string m_line; // reused for every line
    int64_t m_bytes = 0;
};

} // namespace tapedeck::samples
