namespace OrleansInfer.Testing;

/// <summary>Small chat templates for the tiny test models (which carry none), written to temporary files when a path is needed.</summary>
public static class TestChatTemplates
{
    /// <summary>"Q: ... / A: ..." turns after BOS, an optional system line, and "A:" as the generation prompt.</summary>
    public const string QuestionAnswer =
        "{{ bos_token }}{% for m in messages %}{% if m.role == 'system' %}{{ m.content }}\n{% elif m.role == 'user' %}Q: {{ m.content }}\n" +
        "{% elif m.role == 'assistant' %}A: {{ m.content }}{{ eos_token }}\n{% else %}{{ raise_exception('unexpected role ' ~ m.role) }}{% endif %}{% endfor %}" +
        "{% if add_generation_prompt %}A:{% endif %}";

    /// <summary>Refuses every conversation with the JSON of what it was given, so a test can see exactly what reached the template.</summary>
    public const string EchoContext = "{{ raise_exception({'messages': messages, 'tools': tools, 'add_generation_prompt': add_generation_prompt} | tojson) }}";

    /// <summary>Writes <paramref name="source"/> to a new temporary .jinja file and returns its path.</summary>
    public static string WriteFile(string source)
    {
        var path = Path.Combine(Path.GetTempPath(), $"orleans-infer-template-{Guid.NewGuid():N}.jinja");
        File.WriteAllText(path, source);
        return path;
    }
}
