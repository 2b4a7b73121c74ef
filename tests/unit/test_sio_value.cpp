// sio::Value (JSON plus binary buffers anywhere inside) and sio::Args: construction, type predicates, reads with
// defaults, writable access, copy-on-write sharing, equality, JSON text with and without attachments.
#include "sioserver.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

using sio::Value;
using Type = sio::Value::Type;

namespace {

// A read-only view, so that `v[0]` picks the const overloads (see the "literal 0" test below).
const Value& ro(const Value& v) { return v; }

// Whether `v[0]` (the literal) compiles for a T without an ambiguity.
template <class T, class = void>
struct indexable_with_literal_zero : std::false_type {};
template <class T>
struct indexable_with_literal_zero<T, std::void_t<decltype(std::declval<T&>()[0])>> : std::true_type {};

}  // namespace

// ---- construction and type predicates -------------------------------------------------------------------------------

TEST_CASE("value: default and nullptr construct null") {
    Value a;
    Value b(nullptr);
    Value c{};
    for (const Value* v : {&a, &b, &c}) {
        CHECK(v->is_null());
        CHECK(v->type() == Type::Null);
        CHECK_FALSE(v->is_bool());
        CHECK_FALSE(v->is_number());
        CHECK_FALSE(v->is_string());
        CHECK_FALSE(v->is_binary());
        CHECK_FALSE(v->is_array());
        CHECK_FALSE(v->is_object());
        CHECK(v->to_json() == "null");
    }
}

TEST_CASE("value: bool construction is a bool, not a number") {
    Value t(true), f(false);
    CHECK(t.is_bool());
    CHECK(t.type() == Type::Bool);
    CHECK_FALSE(t.is_number());
    CHECK(t.as_bool());
    CHECK_FALSE(f.as_bool());
    CHECK(t.to_json() == "true");
    CHECK(f.to_json() == "false");
}

TEST_CASE("value: int, long long, unsigned and double are numbers") {
    Value i(42), ll(-7LL), u(3u), d(2.5), fl(0.25f);
    for (const Value* v : {&i, &ll, &u, &d, &fl}) {
        CHECK(v->is_number());
        CHECK(v->type() == Type::Number);
        CHECK_FALSE(v->is_bool());
        CHECK_FALSE(v->is_string());
    }
    CHECK(i.as_number() == 42);
    CHECK(i.as_int() == 42);
    CHECK(ll.as_int() == -7);
    CHECK(u.as_int() == 3);
    CHECK(d.as_number() == 2.5);
    CHECK(d.as_int() == 2);  // truncated
    CHECK(fl.as_number() == 0.25);
}

TEST_CASE("value: const char*, std::string and string_view are strings") {
    std::string s = "hello";
    std::string_view sv = "view";
    Value a("lit"), b(s), c(sv), e("");
    CHECK(a.is_string());
    CHECK(b.is_string());
    CHECK(c.is_string());
    CHECK(e.is_string());
    CHECK(a.type() == Type::String);
    CHECK(a.as_string() == "lit");
    CHECK(b.as_string() == "hello");
    CHECK(c.as_string() == "view");
    CHECK(e.as_string().empty());
    CHECK_FALSE(a.is_binary());
    CHECK(a.to_json() == "\"lit\"");
}

TEST_CASE("value: Binary is a binary buffer holding raw bytes (NUL included)") {
    const std::string bytes(
        "\x00\x01\xff"
        "a",
        4);
    Value b(sio::Binary{bytes});
    CHECK(b.is_binary());
    CHECK(b.type() == Type::Binary);
    CHECK_FALSE(b.is_string());
    CHECK(b.as_binary() == bytes);
    CHECK(b.as_binary().size() == 4);
    CHECK(b.as_string() == bytes);  // documented: as_string gives the bytes of a buffer too
    CHECK(b.has_binary());
}

TEST_CASE("value: Array and Object construction") {
    Value a(sio::Array{1, "two", true});
    CHECK(a.is_array());
    CHECK(a.type() == Type::Array);
    CHECK(a.size() == 3);
    CHECK(ro(a)[0].as_int() == 1);
    CHECK(a[1].as_string() == "two");
    CHECK(a[2].as_bool());

    Value o(sio::Object{{"a", 1}, {"b", "x"}});
    CHECK(o.is_object());
    CHECK(o.type() == Type::Object);
    CHECK(o.size() == 2);
    CHECK(o.contains("a"));
    CHECK_FALSE(o.contains("z"));
    CHECK(o["a"].as_int() == 1);
    CHECK(o["b"].as_string() == "x");

    Value empty_a(sio::Array{}), empty_o(sio::Object{});
    CHECK(empty_a.is_array());
    CHECK(empty_a.size() == 0);
    CHECK(empty_a.to_json() == "[]");
    CHECK(empty_o.is_object());
    CHECK(empty_o.size() == 0);
    CHECK(empty_o.to_json() == "{}");
}

TEST_CASE("value: an initializer list makes an array (also with a single element)") {
    Value v = {1, "two", sio::Object{{"k", nullptr}}};
    CHECK(v.is_array());
    CHECK(v.size() == 3);
    CHECK(v.to_json() == "[1,\"two\",{\"k\":null}]");
    // Brace-initialising with one element picks the initializer_list constructor, as for std::vector:
    // Value{42} is [42], while Value(42) is 42.
    Value one{42};
    CHECK(one.is_array());
    CHECK(one.size() == 1);
    CHECK(one.to_json() == "[42]");
    CHECK(Value(42).is_number());
}

// ---- reads with defaults --------------------------------------------------------------------------------------------

TEST_CASE("value: as_* on the wrong type give defaults") {
    const Value s("text"), n(5), nul, arr(sio::Array{1}), obj(sio::Object{{"a", 1}}), t(true);
    CHECK_FALSE(s.as_bool());
    CHECK_FALSE(n.as_bool());  // a non-zero number is not true
    CHECK(s.as_number() == 0);
    CHECK(t.as_number() == 0);
    CHECK(s.as_int() == 0);
    CHECK(n.as_string().empty());
    CHECK(nul.as_string().empty());
    CHECK(arr.as_string().empty());
    CHECK(n.as_binary().empty());
    CHECK(n.as_array().empty());
    CHECK(obj.as_array().empty());
    CHECK(arr.as_object().empty());
    CHECK(s.as_object().empty());
    CHECK(n.size() == 0);
    CHECK(s.size() == 0);  // size() counts elements of arrays/objects only
    CHECK_FALSE(arr.contains("a"));
    // ...and the right types give the values
    CHECK(arr.as_array().size() == 1);
    CHECK(obj.as_object().size() == 1);
    CHECK(obj.as_object().at("a").as_int() == 1);
}

TEST_CASE("value: a missing key or index reads as null, never throws") {
    const Value arr(sio::Array{1, 2});
    const Value obj(sio::Object{{"a", sio::Object{{"b", 3}}}});
    const Value num(1);
    CHECK(arr[5].is_null());
    CHECK(arr[size_t(2)].is_null());
    CHECK(arr[-1].is_null());
    CHECK(arr["a"].is_null());  // a key on an array
    CHECK(obj["zzz"].is_null());
    CHECK(obj[0].is_null());  // an index on an object
    CHECK(obj["a"]["b"].as_int() == 3);
    CHECK(obj["a"]["x"]["y"]["z"].is_null());  // chained misses
    CHECK(num["a"].is_null());
    CHECK(num[0].is_null());
    CHECK(ro(Value())[0].is_null());
    CHECK(ro(Value())["k"].is_null());
    CHECK_FALSE(obj.contains("zzz"));
}

// ---- writable access ------------------------------------------------------------------------------------------------

TEST_CASE("value: writable operator[] turns null into an object and inserts keys") {
    Value v;
    v["name"] = "ann";
    CHECK(v.is_object());
    CHECK(v.size() == 1);
    CHECK(v["name"].as_string() == "ann");
    v["nested"]["deep"] = 7;  // a null member becomes an object too
    CHECK(v["nested"].is_object());
    CHECK(v["nested"]["deep"].as_int() == 7);
    v["name"] = 3;  // overwrite with another type
    CHECK(v["name"].as_int() == 3);
    CHECK(v.to_json() == "{\"name\":3,\"nested\":{\"deep\":7}}");
}

TEST_CASE("value: writable operator[] on a non-object, non-null throws logic_error") {
    Value n(5), s("x"), a(sio::Array{1});
    CHECK_THROWS_AS(n["k"] = 1, std::logic_error);
    CHECK_THROWS_AS(s["k"] = 1, std::logic_error);
    CHECK_THROWS_AS(a["k"] = 1, std::logic_error);
    CHECK(n.as_int() == 5);  // unchanged
    CHECK(a.size() == 1);
}

TEST_CASE("value: push_back turns null into an array and appends") {
    Value v;
    v.push_back(1);
    v.push_back("two");
    v.push_back(sio::Binary{"b"});
    CHECK(v.is_array());
    CHECK(v.size() == 3);
    CHECK(ro(v)[0].as_int() == 1);
    CHECK(v[1].as_string() == "two");
    CHECK(v[2].is_binary());
    Value o(sio::Object{});
    CHECK_THROWS_AS(o.push_back(1), std::logic_error);
    Value n(1);
    CHECK_THROWS_AS(n.push_back(1), std::logic_error);
}

// ---- copy-on-write --------------------------------------------------------------------------------------------------

TEST_CASE("value: copy-on-write — push_back on a copy leaves the original array alone") {
    Value original(sio::Array{1, 2});
    Value copy = original;
    CHECK(copy == original);
    copy.push_back(3);
    CHECK(copy.size() == 3);
    CHECK(original.size() == 2);
    CHECK(original.to_json() == "[1,2]");
    original.push_back("o");
    CHECK(copy.to_json() == "[1,2,3]");
    CHECK(original.to_json() == "[1,2,\"o\"]");
}

TEST_CASE("value: copy-on-write — writing a key of a copy leaves the original object alone") {
    Value original(sio::Object{{"a", 1}});
    Value copy = original;
    copy["a"] = 2;
    copy["b"] = 3;
    CHECK(original.to_json() == "{\"a\":1}");
    CHECK(copy.to_json() == "{\"a\":2,\"b\":3}");
}

TEST_CASE("value: copy-on-write — nested writes through a copy leave the original alone") {
    Value original(sio::Object{{"inner", sio::Object{{"x", 1}}}, {"list", sio::Array{1}}});
    Value copy = original;
    copy["inner"]["x"] = 2;
    copy["list"].push_back(2);
    CHECK(original["inner"]["x"].as_int() == 1);
    CHECK(original["list"].size() == 1);
    CHECK(copy["inner"]["x"].as_int() == 2);
    CHECK(copy["list"].size() == 2);
    // and the other way round
    Value copy2 = original;
    original["inner"]["y"] = true;
    CHECK_FALSE(copy2["inner"].contains("y"));
}

TEST_CASE("value: copy-on-write — an Args copy of a value is independent") {
    Value v(sio::Object{{"n", 1}});
    sio::Args args{v};
    v["n"] = 2;
    CHECK(args[0]["n"].as_int() == 1);
}

// Regression: copies used to share storage until written (copy-on-write), so a reference taken with writable
// operator[] before a copy was made changed the copy as well. Copies are now deep.
TEST_CASE("value: a reference taken before copying does not leak writes into the copy") {
    Value original(sio::Object{{"k", 1}});
    Value& k = original["k"];
    Value copy = original;
    k = 99;  // meant for `original` only
    CHECK(original["k"].as_int() == 99);
    CHECK(copy["k"].as_int() == 1);  // was 99
}

// ---- equality -------------------------------------------------------------------------------------------------------

TEST_CASE("value: equality is deep and type-sensitive") {
    CHECK(Value() == Value(nullptr));
    CHECK(Value(1) == Value(1.0));
    CHECK(Value(1) != Value(2));
    CHECK(Value(true) == Value(true));
    CHECK(Value(true) != Value(false));
    CHECK(Value(true) != Value(1));  // bool is not a number
    CHECK(Value("1") != Value(1));
    CHECK(Value("ab") == Value(std::string("ab")));
    CHECK(Value("ab") != Value(sio::Binary{"ab"}));  // a string is not a buffer with the same bytes
    CHECK(Value(sio::Binary{"ab"}) == Value(sio::Binary{"ab"}));
    CHECK(Value(sio::Binary{"ab"}) != Value(sio::Binary{"ac"}));
    CHECK(Value() != Value(0));
    CHECK(Value(sio::Array{}) != Value(sio::Object{}));
    CHECK(Value(sio::Array{1, sio::Array{2, 3}}) == Value({1, {2, 3}}));
    CHECK(Value(sio::Array{1, sio::Array{2, 3}}) != Value({1, {2, 4}}));
    CHECK(Value(sio::Array{1, 2}) != Value(sio::Array{1, 2, 3}));
    CHECK(Value(sio::Object{{"a", 1}, {"b", 2}}) == Value(sio::Object{{"b", 2}, {"a", 1}}));
    CHECK(Value(sio::Object{{"a", 1}}) != Value(sio::Object{{"a", 1}, {"b", 2}}));
    CHECK(Value(sio::Object{{"a", sio::Object{{"x", 1}}}}) != Value(sio::Object{{"a", sio::Object{{"x", 2}}}}));
}

// ---- JSON text ------------------------------------------------------------------------------------------------------

TEST_CASE("value: to_json of numbers — integral doubles print without decimals") {
    CHECK(Value(0).to_json() == "0");
    CHECK(Value(42).to_json() == "42");
    CHECK(Value(-3).to_json() == "-3");
    CHECK(Value(42.0).to_json() == "42");
    CHECK(Value(-3.0).to_json() == "-3");
    CHECK(Value(2.5).to_json() == "2.5");
    CHECK(Value(-0.25).to_json() == "-0.25");
    CHECK(Value(1700000000000LL).to_json() == "1700000000000");        // a millisecond timestamp
    CHECK(Value(9007199254740991LL).to_json() == "9007199254740991");  // Number.MAX_SAFE_INTEGER
}

TEST_CASE("value: to_json escapes strings") {
    CHECK(Value("a\"b\\c\n").to_json() == "\"a\\\"b\\\\c\\n\"");
    CHECK(Value("caf\xC3\xA9").to_json() == "\"caf\xC3\xA9\"");  // UTF-8 passes through
}

TEST_CASE("value: to_json of nested data (object keys in sorted order)") {
    Value v(sio::Object{
        {"z", sio::Array{1, 2.5, "s", nullptr, true, sio::Array{}, sio::Object{}}},
        {"a", sio::Object{{"n", -1}, {"m", sio::Object{{"deep", sio::Array{Value(sio::Array{0})}}}}}},
    });
    CHECK(v.to_json() == "{\"a\":{\"m\":{\"deep\":[[0]]},\"n\":-1},\"z\":[1,2.5,\"s\",null,true,[],{}]}");
}

TEST_CASE("value: to_json of binary without attachments prints {\"_binary\":N}") {
    CHECK(Value(sio::Binary{"abc"}).to_json() == "{\"_binary\":3}");
    CHECK(Value(sio::Binary{}).to_json() == "{\"_binary\":0}");
    Value nested(sio::Array{"x", sio::Object{{"buf", sio::Binary{std::string(10, '\0')}}}});
    CHECK(nested.to_json() == "[\"x\",{\"buf\":{\"_binary\":10}}]");
}

TEST_CASE("value: to_json with attachments replaces buffers by numbered placeholders in order of appearance") {
    std::vector<std::string> att;
    Value v(
        sio::Array{sio::Binary{"first"}, sio::Object{{"b", sio::Binary{"second"}}}, sio::Array{sio::Binary{"third"}}});
    CHECK(v.to_json(&att) ==
          "[{\"_placeholder\":true,\"num\":0},{\"b\":{\"_placeholder\":true,\"num\":1}},"
          "[{\"_placeholder\":true,\"num\":2}]]");
    REQUIRE(att.size() == 3);
    CHECK(att[0] == "first");
    CHECK(att[1] == "second");
    CHECK(att[2] == "third");
    // No buffer: no attachment.
    std::vector<std::string> none;
    CHECK(Value(sio::Array{1, "a"}).to_json(&none) == "[1,\"a\"]");
    CHECK(none.empty());
}

// Regression: JSON.stringify writes NaN and ±Infinity as null; picojson throws std::overflow_error for them, so
// emitting a NaN argument used to throw from deep inside emit() with an empty message.
TEST_CASE("value: to_json of NaN and infinity writes null as JSON.stringify does") {
    std::string nan_json, inf_json;
    CHECK_NOTHROW(nan_json = Value(std::numeric_limits<double>::quiet_NaN()).to_json());
    CHECK_NOTHROW(inf_json = Value(std::numeric_limits<double>::infinity()).to_json());
    CHECK(nan_json == "null");
    CHECK(inf_json == "null");
}

TEST_CASE("value: from_picojson parses JSON into values; placeholders kept without attachments") {
    picojson::value j;
    std::string err =
        picojson::parse(j, std::string("{\"a\":[1,\"s\",null,false],\"p\":{\"_placeholder\":true,\"num\":0}}"));
    REQUIRE(err.empty());
    Value v;
    REQUIRE(Value::from_picojson(j, v));
    CHECK(v["a"].size() == 4);
    CHECK(ro(v["a"])[0].as_int() == 1);
    CHECK(v["a"][1].as_string() == "s");
    CHECK(v["a"][2].is_null());
    CHECK(v["a"][3].is_bool());
    CHECK(v["p"].is_object());  // no attachments: stays a plain object
    CHECK_FALSE(v.has_binary());

    std::vector<std::string> att{"BYTES"};
    Value w;
    REQUIRE(Value::from_picojson(j, w, &att));
    CHECK(w["p"].is_binary());
    CHECK(w["p"].as_binary() == "BYTES");
    CHECK(w.has_binary());
}

TEST_CASE("value: to_json with attachments then from_picojson with them is a round trip") {
    Value v(sio::Object{{"list", sio::Array{sio::Binary{std::string("\x00\x01", 2)}, 3, sio::Binary{"x"}}},
                        {"s", "str"},
                        {"b", sio::Binary{""}}});
    std::vector<std::string> att;
    std::string json = v.to_json(&att);
    CHECK(att.size() == 3);
    picojson::value j;
    REQUIRE(picojson::parse(j, json).empty());
    Value back;
    REQUIRE(Value::from_picojson(j, back, &att));
    CHECK(back == v);
}

TEST_CASE("value: has_binary finds a buffer at any depth") {
    CHECK_FALSE(Value().has_binary());
    CHECK_FALSE(Value("bytes").has_binary());
    CHECK_FALSE(Value(sio::Array{1, "a", sio::Object{{"k", sio::Array{}}}}).has_binary());
    CHECK(Value(sio::Binary{}).has_binary());
    CHECK(Value(sio::Array{1, sio::Binary{"x"}}).has_binary());
    CHECK(Value(sio::Object{{"k", sio::Binary{"x"}}}).has_binary());
    CHECK(Value(sio::Array{sio::Object{{"a", sio::Array{sio::Array{sio::Object{{"deep", sio::Binary{"x"}}}}}}}})
              .has_binary());
    Value v(sio::Object{{"a", 1}});
    CHECK_FALSE(v.has_binary());
    v["b"]["c"] = sio::Binary{"late"};
    CHECK(v.has_binary());
}

// Regression: `v[0]` on a non-const Value was ambiguous in ISO C++: the literal 0 is also a null pointer constant, so
// the non-const operator[](const char*) competes with the const operator[](int). GCC accepts it with a warning
// ("ISO C++ says that these are ambiguous"), clang rejects it. `v[1]` is fine.
TEST_CASE("value: v[0] on a non-const Value is unambiguous") {
    CHECK(indexable_with_literal_zero<const Value>::value);
    CHECK(indexable_with_literal_zero<Value>::value);  // was false
}

// ---- Args -----------------------------------------------------------------------------------------------------------

TEST_CASE("args: a list of values; an index past the end reads null") {
    const sio::Args args{1, "two", sio::Array{3}};
    CHECK(args.size() == 3);
    CHECK(args[0].as_int() == 1);
    CHECK(args[1].as_string() == "two");
    CHECK(args[2].is_array());  // an Array is one argument
    CHECK(args[3].is_null());
    CHECK(args[1000].is_null());
    sio::Args empty;
    CHECK(std::as_const(empty)[0].is_null());

    sio::Args from_vector(std::vector<Value>{Value(true), Value(2)});
    CHECK(from_vector.size() == 2);
    CHECK(from_vector[0].as_bool());
    from_vector[1] = "changed";  // writable element
    CHECK(std::as_const(from_vector)[1].as_string() == "changed");
}

TEST_CASE("error: true only with a message") {
    CHECK_FALSE(bool(sio::Error{}));
    CHECK(bool(sio::Error{"operation has timed out"}));
}

// to_json writes the text itself (no picojson tree); it must stay what picojson's serializer writes, byte for byte,
// which is what every client has read so far.
TEST_CASE("Value::to_json writes what picojson's serializer writes") {
    std::string every_byte;
    for (int c = 0; c < 256; ++c) every_byte += char(c);
    const double numbers[] = {0.0,
                              -0.0,
                              1,
                              -1,
                              1.5,
                              0.1,
                              -2.5e-7,
                              1e21,
                              123456789012.0,
                              9007199254740991.0,
                              9007199254740992.0,
                              -9007199254740993.0,
                              1e300,
                              -1e-300,
                              4.9e-324,
                              std::numeric_limits<double>::quiet_NaN(),
                              std::numeric_limits<double>::infinity(),
                              -std::numeric_limits<double>::infinity()};
    sio::Value::Array all;
    for (double n : numbers) {
        sio::Value v(n);
        CHECK(v.to_json() == v.to_picojson().serialize());
        all.push_back(v);
    }
    const sio::Value samples[] = {
        sio::Value(),
        sio::Value(true),
        sio::Value(false),
        sio::Value(""),
        sio::Value(every_byte),
        sio::Value("h\xc3\xa9llo / \"w\\orld\"\n"),
        sio::Value(sio::Array{}),
        sio::Value(sio::Object{}),
        sio::Value(sio::Object{{"b", 1}, {"a", sio::Array{1, "two", nullptr, sio::Object{{"x/y", "\x7f"}}}}}),
        sio::Value(std::move(all)),
    };
    for (auto& v : samples) CHECK(v.to_json() == v.to_picojson().serialize());
    // binary: placeholders numbered as the attachments are collected, in the same order both ways
    sio::Value with_binary(sio::Array{sio::Binary{"\x01\x02"}, sio::Object{{"k", sio::Binary{"xyz"}}}, "end"});
    std::vector<std::string> a1, a2;
    CHECK(with_binary.to_json(&a1) == with_binary.to_picojson(&a2).serialize());
    CHECK(a1 == a2);
    CHECK(a1 == std::vector<std::string>{"\x01\x02", "xyz"});
    CHECK(with_binary.to_json() == with_binary.to_picojson().serialize());
}

// detail::parse_json(Value&) fills the Value as picojson's lexer reads; it must take and refuse what the picojson
// tree route (parse_json(picojson::value&) then from_picojson) takes and refuses, with the same result.
TEST_CASE("parse_json into a Value agrees with the picojson tree route") {
    std::string deep_ok(100, '['), deep_bad(101, '[');
    deep_ok += std::string(100, ']');
    deep_bad += std::string(101, ']');
    const std::string texts[] = {"null",
                                 "true",
                                 "false",
                                 "0",
                                 "-0",
                                 "1.5e3",
                                 "123456789012345678901234567890",
                                 "\"\"",
                                 "\"a\\u00e9\\ud83d\\ude00\\/\\n\"",
                                 "[]",
                                 "{}",
                                 "[1,\"two\",null,{\"a\":[true,false]}]",
                                 "{\"k\":1,\"k\":2}",
                                 "{\"_placeholder\":true,\"num\":0}",
                                 " [ 1 , 2 ] ",
                                 deep_ok,
                                 deep_bad,
                                 "[1,]",
                                 "{\"a\"}",
                                 "\"\\ud800\"",
                                 "tru",
                                 "[1 2]",
                                 "\"unterminated",
                                 "{\"a\":{\"b\":{\"c\":[[[{}]]]}}}",
                                 "1e999"};
    for (auto& text : texts) {
        CAPTURE(text);
        const char* first = text.data();
        const char* last = first + text.size();
        picojson::value tree;
        std::string tree_error, value_error;
        const char* tree_end = nullptr;
        const char* value_end = nullptr;
        bool tree_threw = false, value_threw = false;
        try {
            tree_end = sio::detail::parse_json(tree, first, last, tree_error);
        } catch (const std::exception&) {
            tree_threw = true;
        }
        Value direct;
        try {
            value_end = sio::detail::parse_json(direct, first, last, value_error);
        } catch (const std::exception&) {
            value_threw = true;
        }
        CHECK(tree_threw == value_threw);
        if (tree_threw) continue;
        CHECK(tree_error.empty() == value_error.empty());
        CHECK(tree_end == value_end);
        if (!tree_error.empty()) continue;
        Value converted;
        REQUIRE(Value::from_picojson(tree, converted));
        CHECK(converted == direct);
    }
}
