<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>McpServerDialog</name>
    <message>
        <source>MCP server</source>
        <translation>MCP 服务器</translation>
    </message>
    <message>
        <source>Add an MCP server</source>
        <translation>添加 MCP 服务器</translation>
    </message>
    <message>
        <source>Server name</source>
        <translation>服务器名称</translation>
    </message>
    <message>
        <source>letters, digits, &apos;_&apos;, &apos;-&apos;, &apos;.&apos;</source>
        <translation>字母、数字、&apos;_&apos;、&apos;-&apos;、&apos;.&apos;</translation>
    </message>
    <message>
        <source>&amp;Program on this computer (stdio)</source>
        <translation>这台电脑上的程序（stdio）(&amp;P)</translation>
    </message>
    <message>
        <source>Program on this computer</source>
        <translation>这台电脑上的程序</translation>
    </message>
    <message>
        <source>&amp;Server at a URL (streamable HTTP)</source>
        <translation>网址上的服务器（可流式 HTTP）(&amp;S)</translation>
    </message>
    <message>
        <source>Server at a URL</source>
        <translation>网址上的服务器</translation>
    </message>
    <message>
        <source>Command</source>
        <translation>命令</translation>
    </message>
    <message>
        <source>&amp;Command:</source>
        <translation>命令(&amp;C)：</translation>
    </message>
    <message>
        <source>Arguments</source>
        <translation>参数</translation>
    </message>
    <message>
        <source>as in a shell: quotes keep spaces</source>
        <translation>写法同 shell：引号内可含空格</translation>
    </message>
    <message>
        <source>&amp;Arguments:</source>
        <translation>参数(&amp;A)：</translation>
    </message>
    <message>
        <source>Environment</source>
        <translation>环境变量</translation>
    </message>
    <message>
        <source>optional, one NAME=value a line</source>
        <translation>可选，每行一个 NAME=value</translation>
    </message>
    <message>
        <source>&amp;Environment:</source>
        <translation>环境变量(&amp;E)：</translation>
    </message>
    <message>
        <source>Working folder</source>
        <translation>工作文件夹</translation>
    </message>
    <message>
        <source>optional</source>
        <translation>可选</translation>
    </message>
    <message>
        <source>&amp;Working folder:</source>
        <translation>工作文件夹(&amp;W)：</translation>
    </message>
    <message>
        <source>Server URL</source>
        <translation>服务器网址</translation>
    </message>
    <message>
        <source>&amp;URL:</source>
        <translation>网址(&amp;U)：</translation>
    </message>
    <message>
        <source>Token</source>
        <translation>令牌</translation>
    </message>
    <message>
        <source>optional, sent as a bearer token</source>
        <translation>可选，作为 Bearer 令牌发送</translation>
    </message>
    <message>
        <source>&amp;Token:</source>
        <translation>令牌(&amp;T)：</translation>
    </message>
    <message>
        <source>&amp;Offer this server&apos;s tools to chats</source>
        <translation>在对话中提供此服务器的工具(&amp;O)</translation>
    </message>
    <message>
        <source>Server enabled</source>
        <translation>服务器已启用</translation>
    </message>
    <message>
        <source>Server error</source>
        <translation>服务器错误</translation>
    </message>
    <message>
        <source>Dialog buttons</source>
        <translation>对话框按钮</translation>
    </message>
    <message>
        <source>OK</source>
        <translation>确定</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>&amp;Name:</source>
        <translation>名称(&amp;N)：</translation>
    </message>
    <message>
        <source>Give the server a name.</source>
        <translation>请为服务器起一个名称。</translation>
    </message>
    <message>
        <source>There is already a server named {name}.</source>
        <translation>已有名为 {name} 的服务器。</translation>
    </message>
    <message>
        <source>Give the server&apos;s URL.</source>
        <translation>请填写服务器的网址。</translation>
    </message>
    <message>
        <source>Give the command that starts the server.</source>
        <translation>请填写启动服务器的命令。</translation>
    </message>
    <message>
        <source>The arguments cannot be read ({why}).</source>
        <translation>无法读取参数（{why}）。</translation>
    </message>
</context>
<context>
    <name>ToolsPage</name>
    <message>
        <source>Built-in tools new chats start with</source>
        <translation>新对话默认启用的内置工具</translation>
    </message>
    <message>
        <source>&amp;Calculator</source>
        <translation>计算器(&amp;C)</translation>
    </message>
    <message>
        <source>&amp;Date and time</source>
        <translation>日期和时间(&amp;D)</translation>
    </message>
    <message>
        <source>&amp;Knowledge search</source>
        <translation>知识库搜索(&amp;K)</translation>
    </message>
    <message>
        <source>&amp;Files in the chat</source>
        <translation>对话中的文件(&amp;F)</translation>
    </message>
    <message>
        <source>Arithmetic, evaluated safely (never as code).</source>
        <translation>安全地计算算术表达式（绝不当作代码执行）。</translation>
    </message>
    <message>
        <source>The current date and time in any time zone.</source>
        <translation>任意时区的当前日期和时间。</translation>
    </message>
    <message>
        <source>Searches the chat&apos;s knowledge collections, with citations.</source>
        <translation>搜索对话所附的知识库集合，并给出引用。</translation>
    </message>
    <message>
        <source>Reads the files dropped into the chat.</source>
        <translation>读取拖入对话的文件。</translation>
    </message>
    <message>
        <source>Maximum tool calls per reply</source>
        <translation>每条回复最多的工具调用次数</translation>
    </message>
    <message>
        <source>After this many calls the model is asked to answer without tools.</source>
        <translation>调用达到此次数后，模型需在不使用工具的情况下作答。</translation>
    </message>
    <message>
        <source>&amp;Maximum tool calls per reply:</source>
        <translation>每条回复最多调用工具(&amp;M)：</translation>
    </message>
    <message>
        <source>MCP servers</source>
        <translation>MCP 服务器</translation>
    </message>
    <message>
        <source>&amp;Add…</source>
        <translation>添加(&amp;A)…</translation>
    </message>
    <message>
        <source>Add a server</source>
        <translation>添加服务器</translation>
    </message>
    <message>
        <source>&amp;Edit…</source>
        <translation>编辑(&amp;E)…</translation>
    </message>
    <message>
        <source>Edit the server</source>
        <translation>编辑服务器</translation>
    </message>
    <message>
        <source>&amp;Remove</source>
        <translation>移除(&amp;R)</translation>
    </message>
    <message>
        <source>Remove the server</source>
        <translation>移除服务器</translation>
    </message>
    <message>
        <source>&amp;Test / list tools</source>
        <translation>测试 / 列出工具(&amp;T)</translation>
    </message>
    <message>
        <source>Test the server and list its tools</source>
        <translation>测试服务器并列出其工具</translation>
    </message>
    <message>
        <source>Server status</source>
        <translation>服务器状态</translation>
    </message>
    <message>
        <source>The server&apos;s tools</source>
        <translation>服务器的工具</translation>
    </message>
    <message>
        <source>Test a server to list its tools, with their descriptions and schemas.</source>
        <translation>测试服务器即可列出其工具及其说明和 JSON 模式。</translation>
    </message>
    <message>
        <source>(off)</source>
        <translation>（已关闭）</translation>
    </message>
    <message>
        <source>Starting {name} (at most {s} s)…</source>
        <translation>正在启动 {name}（最多 {s} 秒）…</translation>
    </message>
    <message>
        <source>{name} started in {s} s and offers {n} tools.</source>
        <translation>{name} 用 {s} 秒启动，提供 {n} 个工具。</translation>
    </message>
</context>
</TS>
