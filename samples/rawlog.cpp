#include "rawlog.h"

#include "textutil.h"

#include <cerrno>
#include <cstring>

namespace tapedeck::samples {

formats::Result<std::unique_ptr<RawLog>> RawLog::create(const std::string &path)
{
    std::FILE *file = std::fopen(path.c_str(), "wb");
    if (!file)
        return formats::Error{formats::ErrorCode::Io,
                              "cannot create raw log " + path + ": " + std::strerror(errno)};
    return std::unique_ptr<RawLog>(new RawLog(file, path));
}

RawLog::RawLog(std::FILE *file, std::string path)
    : m_file(file)
    , m_path(std::move(path))
{
    std::setvbuf(m_file, nullptr, _IOFBF, 1 << 20);
}

RawLog::~RawLog()
{
    if (m_file)
        std::fclose(m_file);
}

formats::Status RawLog::write(int64_t atUs, const formats::WireExchange &exchange)
{
    m_line.clear();
    m_line.append("{\"ts\":\"");
    appendIsoTimestamp(m_line, atUs);
    m_line.append("\",\"method\":");
    appendJsonString(m_line, exchange.method);
    m_line.append(",\"url\":");
    appendJsonString(m_line, exchange.url);
    m_line.append(",\"status\":" + std::to_string(exchange.status) + ",\"request\":");
    m_line.append(exchange.requestBody);
    m_line.append(",\"response\":");
    appendJsonString(m_line, exchange.responseBody);
    m_line.append("}\n");
    if (std::fwrite(m_line.data(), 1, m_line.size(), m_file) != m_line.size())
        return formats::Error{formats::ErrorCode::Io, "cannot write raw log " + m_path + ": " + std::strerror(errno)};
    m_bytes += int64_t(m_line.size());
    return {};
}

formats::Status RawLog::close()
{
    std::FILE *file = m_file;
    m_file = nullptr;
    if (file && std::fclose(file) != 0)
        return formats::Error{formats::ErrorCode::Io, "cannot finish raw log " + m_path + ": " + std::strerror(errno)};
    return {};
}

} // namespace tapedeck::samples
