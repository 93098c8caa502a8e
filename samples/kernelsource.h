// The agent's kernel file as it evolves during the run.
#pragma once

#include "corpus/corpus.h"
#include "textutil.h"

#include <array>
#include <string>
#include <vector>

namespace tapedeck::samples {

// csrc/extend_attention.cu as a value: which variant each part of the corpus kernel is at,
// and the value of each knob. Rendering gives exactly what read_file returns; an edit is
// the old and new text of one part or one knob line, taken from renderings, so the edits
// the agent makes and the files it reads agree. Copyable: a git commit is a copy.
class KernelSource {
public:
    KernelSource();

    struct Edit {
        std::string oldText;
        std::string newText;
        int part = 0;        // index into corpus::kernelParts()
        int occurrences = 1; // how often oldText occurs in the file (a knob may be on two lines)
    };

    void render(std::string &out) const;
    // 1-based line of the first line of a part in the rendered file.
    int firstLineOf(int part) const;
    int lineCount() const;

    // Ideas whose part is at the variant just before theirs.
    std::vector<const corpus::Idea *> applicableIdeas() const;
    Edit apply(const corpus::Idea &idea);
    Edit setKnob(size_t knob, int value);
    // Knobs whose slot is in the file as it is now (the lazy-rescale slack only exists once
    // that idea is in).
    std::vector<size_t> visibleKnobs() const;
    int knob(size_t knob) const { return m_knobs[knob]; }
    static size_t knobIndex(std::string_view slot);
    int variant(int part) const { return m_variants[size_t(part)]; }
    static int partIndex(std::string_view name);
    // The parts whose text differs from `other`'s (for git diff).
    std::vector<int> partsDifferentFrom(const KernelSource &other) const;
    void renderPart(std::string &out, int part) const;

    bool operator==(const KernelSource &) const = default;

private:
    static constexpr size_t kKnobCount = 8;
    // The knob values as text, and slots naming them, for one rendering.
    struct KnobSlots {
        std::string values[kKnobCount];
        Slot slots[kKnobCount];
    };
    void fillSlots(KnobSlots &slots) const;
    void appendPart(std::string &out, int part, const KnobSlots &slots) const;

    std::vector<int> m_variants;
    std::array<int, kKnobCount> m_knobs{};
};

} // namespace tapedeck::samples
