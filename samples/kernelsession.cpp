#include <tapedeck/samples/kernelsession.h>

#include "sessionwriter.h"
#include "story.h"

namespace tapedeck::samples {

namespace {

bool validScale(double scale)
{
    return scale >= 0.01 && scale <= 1000;
}

} // namespace

formats::Result<KernelSessionStats> writeKernelSession(formats::TapeWriter &writer,
                                                        const KernelSessionOptions &options)
{
    if (!validScale(options.scale))
        return formats::Error{formats::ErrorCode::InvalidArgument,
                              "kernel session scale must be within 0.01 .. 1000, not " +
                                  std::to_string(options.scale)};
    SessionWriter session(writer, options);
    return session.run();
}

int64_t plannedKernelSessionSteps(double scale)
{
    if (!validScale(scale))
        return 0;
    Story story(scale);
    int64_t steps = 0;
    while (std::optional<PlannedTurn> turn = story.next())
        steps += Story::stepsOf(*turn);
    return steps;
}

} // namespace tapedeck::samples
