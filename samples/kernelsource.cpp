#include "kernelsource.h"

#include "textutil.h"

#include <algorithm>

namespace tapedeck::samples {

namespace {

// The port's starting point: the Triton kernel's own configuration.
constexpr int kStartKnobs[] = {64, 64, 4, 2, 8192, 2, 1, 6};

int countLines(std::string_view text)
{
    return int(std::count(text.begin(), text.end(), '\n'));
}

} // namespace

KernelSource::KernelSource()
    : m_variants(corpus::kernelParts().size(), 0)
{
    static_assert(std::size(kStartKnobs) == kKnobCount);
    std::copy(std::begin(kStartKnobs), std::end(kStartKnobs), m_knobs.begin());
}

void KernelSource::fillSlots(KnobSlots &slots) const
{
    const auto knobs = corpus::knobs();
    for (size_t i = 0; i < kKnobCount; ++i) {
        slots.values[i] = std::to_string(m_knobs[i]);
        slots.slots[i] = {knobs[i].slot, slots.values[i]};
    }
}

void KernelSource::appendPart(std::string &out, int part, const KnobSlots &slots) const
{
    const corpus::KernelPart &p = corpus::kernelParts()[size_t(part)];
    appendFilled(out, p.variants[size_t(m_variants[size_t(part)])], slots.slots);
}

void KernelSource::renderPart(std::string &out, int part) const
{
    KnobSlots slots;
    fillSlots(slots);
    appendPart(out, part, slots);
}

void KernelSource::render(std::string &out) const
{
    KnobSlots slots;
    fillSlots(slots);
    for (size_t part = 0; part < m_variants.size(); ++part)
        appendPart(out, int(part), slots);
}

int KernelSource::firstLineOf(int part) const
{
    // Knob values never add lines, so the raw variants give the line numbers.
    int line = 1;
    for (int i = 0; i < part; ++i)
        line += countLines(corpus::kernelParts()[size_t(i)].variants[size_t(m_variants[size_t(i)])]);
    return line;
}

int KernelSource::lineCount() const
{
    return firstLineOf(int(m_variants.size())) - 1;
}

std::vector<const corpus::Idea *> KernelSource::applicableIdeas() const
{
    std::vector<const corpus::Idea *> ideas;
    for (const corpus::Idea &idea : corpus::ideas())
        if (m_variants[size_t(partIndex(idea.part))] == idea.variant - 1)
            ideas.push_back(&idea);
    return ideas;
}

KernelSource::Edit KernelSource::apply(const corpus::Idea &idea)
{
    Edit edit;
    edit.part = partIndex(idea.part);
    renderPart(edit.oldText, edit.part);
    m_variants[size_t(edit.part)] = idea.variant;
    renderPart(edit.newText, edit.part);
    return edit;
}

KernelSource::Edit KernelSource::setKnob(size_t knob, int value)
{
    // The edit is the first line that holds the knob, as the agent would replace it; the
    // same line may occur more than once (both unrolled loops).
    const std::string_view slot = corpus::knobs()[knob].slot;
    const std::string marker = std::string(1, '{').append(slot).append(1, '}');
    Edit edit;
    std::string_view line;
    for (size_t part = 0; part < m_variants.size() && line.empty(); ++part) {
        const std::string_view text = corpus::kernelParts()[part].variants[size_t(m_variants[part])];
        const size_t at = text.find(marker);
        if (at == std::string_view::npos)
            continue;
        const size_t begin = text.rfind('\n', at) == std::string_view::npos ? 0 : text.rfind('\n', at) + 1;
        line = text.substr(begin, text.find('\n', at) - begin);
        edit.part = int(part);
    }
    edit.oldText = filled(line, {{slot, std::to_string(m_knobs[knob])}});
    edit.newText = filled(line, {{slot, std::to_string(value)}});
    edit.occurrences = 0;
    for (size_t part = 0; part < m_variants.size(); ++part) {
        const std::string_view text = corpus::kernelParts()[part].variants[size_t(m_variants[part])];
        for (size_t at = text.find(line); at != std::string_view::npos; at = text.find(line, at + 1))
            ++edit.occurrences;
    }
    m_knobs[knob] = value;
    return edit;
}

std::vector<size_t> KernelSource::visibleKnobs() const
{
    std::vector<size_t> visible;
    const auto knobs = corpus::knobs();
    for (size_t knob = 0; knob < kKnobCount; ++knob) {
        const std::string marker = std::string(1, '{').append(knobs[knob].slot).append(1, '}');
        for (size_t part = 0; part < m_variants.size(); ++part) {
            if (corpus::kernelParts()[part].variants[size_t(m_variants[part])].find(marker) !=
                std::string_view::npos) {
                visible.push_back(knob);
                break;
            }
        }
    }
    return visible;
}

size_t KernelSource::knobIndex(std::string_view slot)
{
    const auto knobs = corpus::knobs();
    for (size_t i = 0; i < knobs.size(); ++i)
        if (knobs[i].slot == slot)
            return i;
    return 0;
}

int KernelSource::partIndex(std::string_view name)
{
    const auto parts = corpus::kernelParts();
    for (size_t i = 0; i < parts.size(); ++i)
        if (parts[i].name == name)
            return int(i);
    return 0;
}

std::vector<int> KernelSource::partsDifferentFrom(const KernelSource &other) const
{
    std::vector<int> parts;
    for (size_t part = 0; part < m_variants.size(); ++part) {
        std::string mine, theirs;
        renderPart(mine, int(part));
        other.renderPart(theirs, int(part));
        if (mine != theirs)
            parts.push_back(int(part));
    }
    return parts;
}

} // namespace tapedeck::samples
