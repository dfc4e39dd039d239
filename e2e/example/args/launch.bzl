"""//args: the same launch as a binary and as a test."""

load("@tinylaunch//bazel:defs.bzl", "tinylaunch_binary", "tinylaunch_test")

# Everything a launcher can carry: literal and rlocation args, every env op, data.
# check.py asserts the result; the caller's own arguments come after the embedded ones.
LAUNCH = dict(
    args = [
        "--literal",
        "with space",
        "héllo",
        "$$dollar",
        "",
        "$(rlocationpath :data.txt)",
        "$(rlocationpaths :pair)",
    ],
    data = [
        ":data.txt",
        ":pair",
        "@tinylaunch//:MODULE.bazel",
    ],
    env = {
        "ARGS_SET": "set by the launcher",
        "ARGS_DATA": "$(rlocationpath :data.txt)",
        "ARGS_EXTERNAL": "$(rlocationpath @tinylaunch//:MODULE.bazel)",
    },
    env_append = {"ARGS_LIST": "back"},
    env_default = {
        "ARGS_DEFAULT": "launcher default",
        "EXPECT_RUNTIME_ARGS": "[]",
    },
    env_prepend = {"ARGS_LIST": "front"},
    env_separator = {"ARGS_LIST": ","},
    env_unset = ["ARGS_GONE"],
    program = "check.py",
)

def args_launchers():
    # bazel run //args:args_bin -- more args; or bazel-bin/args/args_bin from anywhere
    tinylaunch_binary(name = "args_bin", **LAUNCH)

    # bazel test //args:args_test --test_arg=... --test_env=EXPECT_RUNTIME_ARGS='[...]'
    tinylaunch_test(name = "args_test", size = "small", **LAUNCH)
