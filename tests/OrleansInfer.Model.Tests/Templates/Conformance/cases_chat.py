"""Realistic chat-template fragments: the patterns the Hugging Face templates in shared/chat-templates are built from."""
from common import many

CONV = {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
                     {"role": "assistant", "content": "Hello!"}, {"role": "user", "content": "Weather?"}],
        "add_generation_prompt": True, "bos_token": "<s>", "eos_token": "</s>"}
NOSYS = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}],
         "add_generation_prompt": False, "bos_token": "<s>"}
BAD = {"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]}
TOOLS = {"messages": [{"role": "user", "content": "Weather in Paris?"},
                      {"role": "assistant", "content": None, "tool_calls": [
                          {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris", "unit": "°C"}}}]},
                      {"role": "tool", "content": "{\"t\": 21}"}],
         "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Get weather",
                                                      "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]}

SYSTEM_EXTRACT = ("{% if messages[0]['role'] == 'system' %}{% set system = messages[0]['content'] %}"
                  "{% set loop_messages = messages[1:] %}{% else %}{% set system = '' %}{% set loop_messages = messages %}{% endif %}")

CASES = many("chat", [
    ("system-extract", SYSTEM_EXTRACT + "[{{ system }}]{{ loop_messages | length }}", CONV),
    ("system-extract-none", SYSTEM_EXTRACT + "[{{ system }}]{{ loop_messages | length }}", NOSYS),
    ("alternation-ok", "{% for m in messages %}{% if (m['role'] == 'user') != (loop.index0 % 2 == 0) %}"
     "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
     "{{ m.role[0] }}{% endfor %}", NOSYS),
    ("alternation-raise", "{% for m in messages %}{% if (m['role'] == 'user') != (loop.index0 % 2 == 0) %}"
     "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
     "{% endfor %}", BAD),
    ("chatml", "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>' + '\\n' }}"
     "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}", CONV),
    ("chatml-no-gen", "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>' + '\\n' }}"
     "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}", NOSYS),
    ("loop-last-gen-prompt", "{% for m in messages %}{{ m.content }}{% if loop.last and add_generation_prompt %}<GEN>{% endif %}"
     "{% endfor %}", CONV),
    ("bos-eos", "{{ bos_token }}{% for m in messages %}{% if m.role == 'assistant' %}{{ m.content + eos_token }}"
     "{% else %}[INST] {{ m.content }} [/INST]{% endif %}{% endfor %}", CONV),
    ("ns-flag-multi-step", "{% set ns = namespace(multi_step_tool=true, last_query_index=messages | length - 1) %}"
     "{% for m in messages[::-1] %}{% set index = (messages | length - 1) - loop.index0 %}"
     "{% if ns.multi_step_tool and m.role == 'user' %}{% set ns.multi_step_tool = false %}"
     "{% set ns.last_query_index = index %}{% endif %}{% endfor %}{{ ns.last_query_index }}", TOOLS),
    ("reverse-scan", "{% for m in messages[::-1] %}{{ m.role }} {% endfor %}", CONV),
    ("reverse-filter-scan", "{% for m in messages | reverse %}{% if m.role == 'user' %}{{ m.content }}{% break %}{% endif %}{% endfor %}", CONV),
    ("tool-calls-tojson", "{% for m in messages %}{% if m.tool_calls %}{% for tc in m.tool_calls %}"
     "<tool_call>{{ {'name': tc.function.name, 'arguments': tc.function.arguments} | tojson }}</tool_call>"
     "{% endfor %}{% endif %}{% endfor %}", TOOLS),
    ("tool-calls-arguments-string-or-dict", "{% for m in messages if m.tool_calls %}{% set a = m.tool_calls[0].function.arguments %}"
     "{% if a is string %}{{ a }}{% else %}{{ a | tojson }}{% endif %}{% endfor %}", TOOLS),
    ("tools-list-render", "{% if tools %}{% for t in tools %}{{ t | tojson(indent=4) }}\n\n{% endfor %}{% endif %}", TOOLS),
    ("tools-none", "{% if tools is not none and tools %}T{% else %}no tools{% endif %}", {"tools": None}),
    ("tools-undefined", "{% if tools is defined and tools %}T{% else %}no tools{% endif %}"),
    ("tool-response", "{% for m in messages %}{% if m.role == 'tool' %}<tool_response>\n{{ m.content }}\n</tool_response>{% endif %}{% endfor %}", TOOLS),
    ("content-none-assistant", "{% for m in messages %}[{{ m.content if m.content is not none else '' }}]{% endfor %}", TOOLS),
    ("content-string-check", "{% for m in messages %}{% if m.content is string %}S{% else %}N{% endif %}{% endfor %}", TOOLS),
    ("content-parts", "{% for m in messages %}{% if m.content is string %}{{ m.content }}{% else %}{% for p in m.content %}"
     "{% if p.type == 'text' %}{{ p.text }}{% elif p.type == 'image' %}<img>{% endif %}{% endfor %}{% endif %}{% endfor %}",
     {"messages": [{"role": "user", "content": [{"type": "text", "text": "see "}, {"type": "image"}, {"type": "text", "text": "!"}]}]}),
    ("gemma-role-map", "{% for m in messages %}{% set role = 'model' if m.role == 'assistant' else m.role %}"
     "<start_of_turn>{{ role }}\n{{ m.content | trim }}<end_of_turn>\n{% endfor %}", NOSYS),
    ("system-not-supported-raise", "{% if messages[0].role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}", CONV),
    ("first-user-prepend-system", SYSTEM_EXTRACT + "{% for m in loop_messages %}{% if loop.index0 == 0 and system %}"
     "{{ system + '\\n\\n' + m.content }}{% else %}{{ m.content }}{% endif %}|{% endfor %}", CONV),
    ("llama3-header", "{{- bos_token }}{%- for m in messages %}{{- '<|start_header_id|>' + m['role'] + '<|end_header_id|>\\n\\n' + m['content'] | trim + '<|eot_id|>' }}"
     "{%- endfor %}{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}", CONV),
    ("date-string-default", "{%- if not date_string is defined %}{%- set date_string = strftime_now('%d %b %Y') %}{%- endif %}"
     "Today Date: {{ date_string }}"),
    ("date-string-given", "{%- if not date_string is defined %}{%- set date_string = strftime_now('%d %b %Y') %}{%- endif %}"
     "Today Date: {{ date_string }}", {"date_string": "03 Mar 2021"}),
    ("think-strip", "{% for m in messages %}{% set c = m.content %}{% if '</think>' in c %}{% set c = c.split('</think>')[-1] %}{% endif %}"
     "[{{ c | trim }}]{% endfor %}", {"messages": [{"role": "assistant", "content": "<think>hmm</think>\n\nDone."}]}),
    ("multiline-indented", "{%- for m in messages %}\n    {%- if m.role == 'user' %}\n        {{- 'U:' + m.content }}\n"
     "    {%- elif m.role == 'assistant' %}\n        {{- ' A:' + m.content }}\n    {%- endif %}\n{%- endfor %}\n", NOSYS),
    ("multiline-trim-lstrip-only", "{% for m in messages %}\n    {% if m.role == 'user' %}\n    U: {{ m.content }}\n"
     "    {% endif %}\n{% endfor %}\n", NOSYS),
    ("keep-last-assistant-only", "{% for m in messages %}{% if m.role == 'assistant' and not loop.last %}{% continue %}{% endif %}"
     "{{ m.role }};{% endfor %}", NOSYS),
    ("selectattr-system", "{% set sys = messages | selectattr('role', 'equalto', 'system') | list %}"
     "{{ sys | length }}{{ sys[0].content if sys else '' }}", CONV),
    ("length-minus-one-index", "{{ messages[messages | length - 1].content }}", CONV),
    ("last-message-filter", "{{ (messages | last).content }}", CONV),
    ("user-count", "{{ messages | selectattr('role', 'eq', 'user') | list | length }}", CONV),
    ("json-arguments-pretty", "{{ messages[1].tool_calls[0].function.arguments | tojson(indent=2) }}", TOOLS),
    ("functionary-style", "{%- for tool in tools %}{%- if tool.type == 'function' %}// {{ tool.function.description }}\n"
     "type {{ tool.function.name }} = (_: {{ tool.function.parameters | tojson }}) => any;\n{%- endif %}{%- endfor %}", TOOLS),
])
