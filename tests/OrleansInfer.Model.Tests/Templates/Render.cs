using System.Text.Json.Nodes;
using OrleansInfer.Model.Templates;

namespace OrleansInfer.Model.Tests.Templates;

/// <summary>Renders a template with the variables the oracle-checked cases were generated with.</summary>
internal static class Render
{
    public const string ContextJson = """
        {"messages":[{"role":"system","content":"Be nice"},{"role":"user","content":"Hi 'there'"},
          {"role":"assistant","content":"Hello","tool_calls":[{"function":{"name":"f","arguments":{"a":1,"b":[1,2.5,null]}}}]}],
         "x":3,"y":2.5,"s":"  Hello World  ","l":[3,1,2],"d":{"b":1,"a":2},"n":null,"t":true,"u":"ünï\u2028code","bos_token":"<s>"}
        """;

    public static string Of(string template, TemplateOptions? options = null)
        => JinjaTemplate.Parse(template, options).Render(JsonNode.Parse(ContextJson)!.AsObject());
}
