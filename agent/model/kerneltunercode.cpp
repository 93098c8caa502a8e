#include "kerneltunercode.h"

#include <charconv>

namespace tapedeck::model {

namespace {

// The workspace's kernel.c as shipped (samples/kernel-tuning/kernel.c); the tests check
// that the two stay the same.
constexpr std::string_view kNaiveSource =
    "/* The kernel to make faster. bench.c checks it against reference.c and times both. */\n"
    "#include \"kernel.h\"\n"
    "\n"
    "void kernel_matmul(int n, const float *a, const float *b, float *c)\n"
    "{\n"
    "    for (int i = 0; i < n; i++) {\n"
    "        for (int j = 0; j < n; j++) {\n"
    "            float sum = 0.0f;\n"
    "            for (int k = 0; k < n; k++)\n"
    "                sum += a[i * n + k] * b[k * n + j];\n"
    "            c[i * n + j] = sum;\n"
    "        }\n"
    "    }\n"
    "}\n";

constexpr std::string_view kVariantTag = "/* variant: ";

// Lines of C at an indentation of four spaces per level.
class Code {
public:
    void line(int depth, std::string_view text)
    {
        if (!text.empty())
            m_text.append(static_cast<size_t>(depth) * 4, ' ').append(text);
        m_text.push_back('\n');
    }
    std::string take() { return std::move(m_text); }

private:
    std::string m_text;
};

std::string str(int v)
{
    return std::to_string(v);
}

// The loop bounds of one block of k and j: the whole matrix, or one tile.
struct Bounds {
    std::string k0, k1, j0, j1;
};

// "j" or "j + 2": the element u places along the inner loop.
std::string at(int u)
{
    return u == 0 ? std::string("j") : "j + " + str(u);
}

// The rows i .. i+rows-1 of C over one block of k and j (i-k-j order).
void emitRowBlock(Code &code, int depth, const KernelConfig &cfg, int rows, const Bounds &b)
{
    const bool pointers = cfg.hoist || rows > 1;
    auto cElem = [&](int r, const std::string &j) {
        if (!pointers)
            return "c[i * n + " + j + "]";
        return (rows == 1 ? std::string("ci") : "c" + str(r)) + "[" + j + "]";
    };
    auto aName = [&](int r) { return rows == 1 ? std::string("aik") : "a" + str(r); };
    auto bElem = [&](const std::string &j) {
        return pointers ? "bk[" + j + "]" : "b[k * n + " + j + "]";
    };

    if (pointers) {
        if (rows == 1) {
            code.line(depth, "float *ci = c + i * n;");
        } else {
            code.line(depth, "float *c0 = c + i * n;");
            for (int r = 1; r < rows; ++r)
                code.line(depth, "float *c" + str(r) + " = c" + str(r - 1) + " + n;");
        }
    }
    code.line(depth, "for (int k = " + b.k0 + "; k < " + b.k1 + "; k++) {");
    const int in = depth + 1;
    if (pointers)
        code.line(in, "const float *bk = b + k * n;");
    for (int r = 0; r < rows; ++r) {
        const std::string row = r == 0 ? std::string("i") : "(i + " + str(r) + ")";
        code.line(in, "float " + aName(r) + " = a[" + row + " * n + k];");
    }
    // The pragma applies to the loop right after it: the first inner loop.
    auto hint = [&] {
        if (cfg.ivdep)
            code.line(0, "#pragma GCC ivdep");
    };
    auto updates = [&](int depthOf, int u, bool shareB) {
        for (int r = 0; r < rows; ++r) {
            const std::string bv = shareB ? std::string("bv") : bElem(at(u));
            code.line(depthOf, cElem(r, at(u)) + " += " + aName(r) + " * " + bv + ";");
        }
    };
    if (cfg.unroll == 1) {
        hint();
        if (rows == 1) {
            code.line(in, "for (int j = " + b.j0 + "; j < " + b.j1 + "; j++)");
            updates(in + 1, 0, false);
        } else {
            code.line(in, "for (int j = " + b.j0 + "; j < " + b.j1 + "; j++) {");
            code.line(in + 1, "float bv = " + bElem("j") + ";");
            updates(in + 1, 0, true);
            code.line(in, "}");
        }
    } else {
        code.line(in, "int j = " + b.j0 + ";");
        hint();
        code.line(in, "for (; j + " + str(cfg.unroll) + " <= " + b.j1 + "; j += " + str(cfg.unroll) + ") {");
        for (int u = 0; u < cfg.unroll; ++u)
            updates(in + 1, u, false);
        code.line(in, "}");
        code.line(in, std::string("for (; j < ") + b.j1 + "; j++)" + (rows > 1 ? " {" : ""));
        updates(in + 1, 0, false);
        if (rows > 1)
            code.line(in, "}");
    }
    code.line(depth, "}");
}

// All rows of C over one block of k and j: blocks of `rows`, then the rows left over.
void emitRows(Code &code, int depth, const KernelConfig &cfg, const Bounds &b)
{
    if (cfg.rows == 1) {
        code.line(depth, "for (int i = 0; i < n; i++) {");
        emitRowBlock(code, depth + 1, cfg, 1, b);
        code.line(depth, "}");
        return;
    }
    code.line(depth, "int i = 0;");
    code.line(depth, "for (; i + " + str(cfg.rows) + " <= n; i += " + str(cfg.rows) + ") {");
    emitRowBlock(code, depth + 1, cfg, cfg.rows, b);
    code.line(depth, "}");
    code.line(depth, "for (; i < n; i++) {");
    emitRowBlock(code, depth + 1, cfg, 1, b);
    code.line(depth, "}");
}

std::string signature(const KernelConfig &cfg)
{
    const char *q = cfg.restrictPointers ? "*restrict " : "*";
    return std::string("void kernel_matmul(int n, const float ") + q + "a, const float " + q +
           "b, float " + q + "c)";
}

void emitIkj(Code &code, const KernelConfig &cfg)
{
    if (cfg.tile > 0) {
        code.line(0, "#define TILE " + str(cfg.tile));
        code.line(0, "");
        code.line(0, "static int min_int(int x, int y)");
        code.line(0, "{");
        code.line(1, "return x < y ? x : y;");
        code.line(0, "}");
        code.line(0, "");
    }
    code.line(0, signature(cfg));
    code.line(0, "{");
    code.line(1, "for (int i = 0; i < n * n; i++)");
    code.line(2, "c[i] = 0.0f;");
    if (cfg.tile > 0) {
        code.line(1, "for (int kk = 0; kk < n; kk += TILE) {");
        code.line(2, "int kend = min_int(kk + TILE, n);");
        code.line(2, "for (int jj = 0; jj < n; jj += TILE) {");
        code.line(3, "int jend = min_int(jj + TILE, n);");
        emitRows(code, 3, cfg, {"kk", "kend", "jj", "jend"});
        code.line(2, "}");
        code.line(1, "}");
    } else {
        emitRows(code, 1, cfg, {"0", "n", "0", "n"});
    }
    code.line(0, "}");
}

void emitIjk(Code &code, const KernelConfig &cfg)
{
    auto aElem = [&](const std::string &k) {
        return cfg.hoist ? "ai[" + k + "]" : "a[i * n + " + k + "]";
    };
    code.line(0, signature(cfg));
    code.line(0, "{");
    code.line(1, "for (int i = 0; i < n; i++) {");
    if (cfg.hoist)
        code.line(2, "const float *ai = a + i * n;");
    code.line(2, "for (int j = 0; j < n; j++) {");
    if (cfg.unroll == 1) {
        code.line(3, "float sum = 0.0f;");
        code.line(3, "for (int k = 0; k < n; k++)");
        code.line(4, "sum += " + aElem("k") + " * b[k * n + j];");
        code.line(3, "c[i * n + j] = sum;");
    } else {
        code.line(3, "float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;");
        code.line(3, "int k = 0;");
        code.line(3, "for (; k + 4 <= n; k += 4) {");
        code.line(4, "s0 += " + aElem("k") + " * b[k * n + j];");
        for (int u = 1; u < 4; ++u) {
            const std::string k = "k + " + str(u);
            code.line(4, "s" + str(u) + " += " + aElem(k) + " * b[(" + k + ") * n + j];");
        }
        code.line(3, "}");
        code.line(3, "for (; k < n; k++)");
        code.line(4, "s0 += " + aElem("k") + " * b[k * n + j];");
        code.line(3, "c[i * n + j] = (s0 + s1) + (s2 + s3);");
    }
    code.line(2, "}");
    code.line(1, "}");
    code.line(0, "}");
}

bool validTile(int t)
{
    return t == 0 || t == 16 || t == 32 || t == 64;
}

// Rows above one need the hoisted row pointers; the key leaves the implied token out.
KernelConfig normalized(KernelConfig cfg)
{
    if (cfg.rows > 1)
        cfg.hoist = true;
    return cfg;
}

} // namespace

std::string KernelConfig::key() const
{
    std::string k = ikj ? "ikj" : "ijk";
    if (tile > 0)
        k.append("-t").append(str(tile));
    if (rows > 1)
        k.append("-r").append(str(rows));
    if (restrictPointers)
        k.append("-restrict");
    if (ivdep)
        k.append("-ivdep");
    if (unroll > 1)
        k.append("-u").append(str(unroll));
    if (hoist && rows == 1)
        k.append("-hoist");
    return k;
}

std::optional<KernelConfig> KernelConfig::fromKey(std::string_view key)
{
    KernelConfig cfg;
    bool first = true;
    while (!key.empty()) {
        const size_t dash = key.find('-');
        const std::string_view token = key.substr(0, dash);
        key = dash == std::string_view::npos ? std::string_view() : key.substr(dash + 1);
        auto number = [&](std::string_view digits, int &out) {
            auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
            return ec == std::errc() && end == digits.data() + digits.size();
        };
        if (first) {
            if (token != "ijk" && token != "ikj")
                return std::nullopt;
            cfg.ikj = token == "ikj";
            first = false;
        } else if (token == "restrict") {
            cfg.restrictPointers = true;
        } else if (token == "ivdep") {
            cfg.ivdep = true;
        } else if (token == "hoist") {
            cfg.hoist = true;
        } else if (token.size() > 1 && token[0] == 't') {
            if (!number(token.substr(1), cfg.tile) || !validTile(cfg.tile) || cfg.tile == 0)
                return std::nullopt;
        } else if (token.size() > 1 && token[0] == 'r') {
            if (!number(token.substr(1), cfg.rows) || (cfg.rows != 2 && cfg.rows != 4))
                return std::nullopt;
        } else if (token.size() > 1 && token[0] == 'u') {
            if (!number(token.substr(1), cfg.unroll) || cfg.unroll != 4)
                return std::nullopt;
        } else {
            return std::nullopt;
        }
    }
    if (first || (!cfg.ikj && (cfg.tile || cfg.rows > 1 || cfg.ivdep)))
        return std::nullopt;
    cfg = normalized(cfg);
    return cfg;
}

std::string KernelConfig::describe() const
{
    if (*this == KernelConfig{})
        return "the naive i-j-k loops";
    std::string d = ikj ? "i-k-j order" : "i-j-k order";
    if (tile > 0)
        d.append(", ").append(str(tile)).append("x").append(str(tile)).append(" blocks of k and j");
    if (rows > 1)
        d.append(", ").append(str(rows)).append(" rows of C at a time");
    if (restrictPointers)
        d.append(", restrict pointers");
    if (ivdep)
        d.append(", #pragma GCC ivdep");
    if (unroll > 1)
        d.append(", inner loop unrolled by ").append(str(unroll));
    if (hoist && rows == 1)
        d.append(", hoisted row pointers");
    return d;
}

std::string kernelSource(const KernelConfig &config)
{
    if (config == KernelConfig{})
        return std::string(kNaiveSource);
    Code code;
    code.line(0, std::string(kVariantTag) + config.key());
    code.line(0, " * " + config.describe() + " */");
    code.line(0, "#include \"kernel.h\"");
    code.line(0, "");
    if (config.ikj)
        emitIkj(code, config);
    else
        emitIjk(code, config);
    return code.take();
}

std::optional<std::string> keyOfSource(std::string_view source)
{
    if (source.starts_with(kVariantTag)) {
        std::string_view rest = source.substr(kVariantTag.size());
        rest = rest.substr(0, rest.find_first_of(" \n"));
        if (KernelConfig::fromKey(rest))
            return std::string(rest);
        return std::nullopt;
    }
    if (source == kNaiveSource)
        return KernelConfig{}.key();
    return std::nullopt;
}

std::vector<Idea> ideasFrom(const KernelConfig &from)
{
    std::vector<Idea> ideas;
    auto add = [&](KernelConfig cfg, std::string what, int priority) {
        cfg = normalized(cfg);
        if (!(cfg == from))
            ideas.push_back({cfg, std::move(what), priority});
    };
    KernelConfig c = from;
    if (!from.ikj) {
        c.ikj = true;
        c.unroll = 1;
        add(c, "switch to the i-k-j loop order, so that the inner loop walks rows of B and C", 0);
        c = from;
        c.unroll = from.unroll == 1 ? 4 : 1;
        add(c, from.unroll == 1 ? "unroll the k loop by 4 with four partial sums"
                                : "drop the unrolling of the k loop",
            3);
    } else {
        for (int t : {16, 32, 64}) {
            c = from;
            c.tile = t;
            add(c, "block the k and j loops by " + str(t) + " so that a block of B stays in cache",
                t == 32 ? 1 : 2);
        }
        if (from.tile > 0) {
            c = from;
            c.tile = 0;
            add(c, "drop the blocking", 4);
        }
        for (int r : {2, 4}) {
            c = from;
            c.rows = r;
            add(c, "compute " + str(r) + " rows of C at a time, so that each value of B loaded "
                       "serves " + str(r) + " rows",
                r == 4 ? 1 : 2);
        }
        if (!from.ivdep) {
            c = from;
            c.ivdep = true;
            add(c, "tell GCC the inner loop has no dependences (#pragma GCC ivdep)", 2);
        }
        c = from;
        c.unroll = from.unroll == 1 ? 4 : 1;
        add(c, from.unroll == 1 ? "unroll the inner loop by 4" : "drop the manual unrolling",
            from.unroll == 1 ? 2 : 4);
        if (!from.hoist && from.rows == 1) {
            c = from;
            c.hoist = true;
            add(c, "hoist the row pointers of B and C out of the inner loop", 2);
        }
    }
    if (!from.restrictPointers) {
        c = from;
        c.restrictPointers = true;
        add(c, "mark the pointers restrict, so that the compiler may vectorise", from.ikj ? 1 : 3);
    }
    if (!from.ikj && !from.hoist) {
        c = from;
        c.hoist = true;
        add(c, "hoist the row of A out of the k loop", 3);
    }
    return ideas;
}

std::vector<Slip> slipsFor(const KernelConfig &config)
{
    using Kind = Slip::Kind;
    std::vector<Slip> slips;
    if (config.ikj) {
        slips.push_back({Kind::MissingSemicolon, "c[i] = 0.0f;\n", "c[i] = 0.0f\n"});
        if (config.rows == 1)
            slips.push_back({Kind::UndeclaredName, "float aik = ", "float a_ik = "});
        else
            slips.push_back({Kind::UndeclaredName, "float a0 = ", "float a_0 = "});
        if (config.tile > 0)
            slips.push_back({Kind::LastBlockDropped, "jj < n; jj += TILE", "jj + TILE <= n; jj += TILE"});
    } else if (config.unroll == 1) {
        slips.push_back({Kind::MissingSemicolon, "c[i * n + j] = sum;\n", "c[i * n + j] = sum\n"});
        slips.push_back({Kind::UndeclaredName, "float sum = 0.0f;", "float total = 0.0f;"});
    } else {
        slips.push_back({Kind::MissingSemicolon, "= (s0 + s1) + (s2 + s3);\n", "= (s0 + s1) + (s2 + s3)\n"});
        slips.push_back({Kind::UndeclaredName, "float s0 = 0.0f,", "float s_0 = 0.0f,"});
    }
    return slips;
}

} // namespace tapedeck::model
